"""The first HTTP views, served by the court app: health and a summary (the full `/v1` API,
its access control and the dashboard come with the API issue)."""

from __future__ import annotations

import time
from typing import Any

from shixin.streams.roles import Roles

_PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>shixin</title>
<meta http-equiv="refresh" content="2"></head><body><h1>shixin 失信被执行人名单</h1>
<pre>{summary}</pre></body></html>"""


def install_web(roles: Roles) -> None:
    from shixin.streams.demo import summary

    assert roles.court is not None
    app = roles.court.app
    started = time.monotonic()

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok", "apps": [a.conf.id for a in roles.apps]})

    @app.page("/v1/summary")
    async def summary_view(web: Any, request: Any) -> Any:
        return web.json(summary(roles, started))

    @app.page("/")
    async def index(web: Any, request: Any) -> Any:
        import json

        text = json.dumps(summary(roles, started), ensure_ascii=False, indent=2)
        return web.html(_PAGE.format(summary=text))
