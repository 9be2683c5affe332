"""A live pipeline with the api role on the broker, and tokens of every role, for the HTTP tests.

Import the fixture into a test module (`from tests.api_live import live_api_fixture  # noqa: F401`)
and ask for `live_api`: one pipeline per module."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from shixin.runtime.settings import ApiToken, Settings
from shixin.streams.idle import wait_idle
from shixin.streams.roles import Roles
from shixin.web.auth import hash_token
from tests.conftest import isolated_settings

ROLE = (
    "court,sla,department:aviation,department:rail,department:education,department:immigration,api"
)
# holder -> (token, role)
TOKENS = {
    "auditor": ("tok-auditor-0123456789", "auditor"),
    "operator": ("tok-operator-0123456789", "operator"),
    "court": ("tok-court-0123456789", "court"),
    "aviation": ("tok-aviation-0123456789", "department:aviation"),
    "rail": ("tok-rail-0123456789", "department:rail"),
    "education": ("tok-education-0123456789", "department:education"),
}


def auth(holder: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[holder][0]}"}


@dataclass
class LiveApi:
    bootstrap: str
    settings: Settings
    roles: Roles
    url: str
    http: aiohttp.ClientSession

    async def settle(self) -> None:
        """Everything published so far processed, and read by the api's replicas."""
        await wait_idle(self.bootstrap, self.roles, self.settings, timeout=60)
        assert self.roles.api is not None
        await self.roles.api.settle()

    async def call(
        self, method: str, path: str, holder: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {**(auth(holder) if holder else {}), **kwargs.pop("headers", {})}
        async with self.http.request(method, self.url + path, headers=headers, **kwargs) as r:
            if r.content_type == "application/json":
                return r.status, await r.json()
            return r.status, await r.text()

    async def intake(self, events: list[dict[str, Any]]) -> list[str]:
        status, body = await self.call("POST", "/v1/court/events", "court", json=events)
        assert status == 202, body
        await self.settle()
        return list(body["accepted"])


def api_settings() -> Settings:
    return isolated_settings(
        web_port=0,
        api_tokens=[
            ApiToken(name=f"{holder}-test", role=role, sha256=hash_token(token))
            for holder, (token, role) in TOKENS.items()
        ],
        sla_check_interval=0.5,
    )


@pytest.fixture(scope="module", name="live_api")
async def live_api_fixture(bootstrap: str, catalog: Any) -> AsyncIterator[LiveApi]:
    from shixin.streams.pipeline import hosted

    settings = api_settings()
    async with hosted(ROLE, settings, bootstrap, catalog) as roles:
        assert roles.api is not None
        await asyncio.wait_for(roles.api.tailer.ready.wait(), 60)
        async with aiohttp.ClientSession() as http:
            yield LiveApi(bootstrap, settings, roles, roles.api.url, http)
