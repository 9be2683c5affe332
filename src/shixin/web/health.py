"""Health for the roles that have no HTTP API (court, sla, departments): `/healthz` (the
process answers), `/readyz` (every app started, not rebalancing, tables recovered) and
`/metrics`, so orchestrators can probe every worker the same way they probe the api role."""

from __future__ import annotations

from typing import Any, cast

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from shixin.domain.calendar import covered_years
from shixin.runtime.logging import get_logger
from shixin.streams.counters import PROGRESS, STATS
from shixin.streams.roles import Roles
from shixin.streams.stalls import partition_states, paused_partitions

log = get_logger(__name__)


def app_states(roles: Roles) -> dict[str, dict[str, Any]]:
    return {
        app.conf.id: {
            "started": bool(app.started),
            "rebalancing": bool(app.rebalancing),
            "recovered": cast(Any, app.tables).recovery.completed.is_set(),
            "partitions": _assigned(app),
            # paused by Faust (table recovery); an input left paused after it: streams/stalls.py
            "paused": sorted(
                f"{tp.topic}/{tp.partition}" for tp in paused_partitions(app.consumer)
            ),
            "consuming": partition_states(app),
        }
        for app in roles.apps
    }


def _assigned(app: Any) -> int:
    """How many partitions the app's consumer holds (0 before it has joined its group)."""
    try:
        return len(app.consumer.assignment())
    except Exception:  # no consumer yet
        return 0


def is_ready(states: dict[str, dict[str, Any]]) -> bool:
    return all(s["started"] and s["recovered"] and not s["rebalancing"] for s in states.values())


class _WorkerCollector:
    """Read at each scrape: nothing to keep in step."""

    def __init__(self, roles: Roles) -> None:
        self.roles = roles

    def collect(self) -> Any:
        processed = GaugeMetricFamily(
            "shixin_worker_next_offset",
            "The next offset each app will process, per topic and partition",
            labels=["app", "topic", "partition"],
        )
        for (app_id, topic, partition), offset in sorted(PROGRESS.items()):
            processed.add_metric([app_id, topic, str(partition)], offset)
        yield processed
        counted = CounterMetricFamily(
            "shixin_worker_events", "Counted happenings (feedback, crashes)", labels=["what"]
        )
        for what, value in sorted(STATS.items()):
            if isinstance(value, int):
                counted.add_metric([what], value)
        yield counted


class HealthServer:
    def __init__(self, roles: Roles, host: str, port: int) -> None:
        self.roles = roles
        self.host, self.port = host, port
        self.registry = CollectorRegistry()
        self.ready = Gauge(
            "shixin_worker_ready", "1 when every app is ready", registry=self.registry
        )
        # the last year whose holidays the deadlines can count (library or supplied): alert when
        # it is this year in November (OPERATIONS.md "The next year's holidays")
        self.calendar_until = Gauge(
            "shixin_calendar_covered_until_year",
            "The last year of the holiday calendar the deadlines can count with",
            registry=self.registry,
        )
        self.registry.register(_WorkerCollector(roles))
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)
        return app

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "apps": [a.conf.id for a in self.roles.apps]})

    async def readyz(self, request: web.Request) -> web.Response:
        states = app_states(self.roles)
        ready = is_ready(states)
        return web.json_response({"ready": ready, "apps": states}, status=200 if ready else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        self.ready.set(1 if is_ready(app_states(self.roles)) else 0)
        self.calendar_until.set(covered_years()[1])
        return web.Response(body=generate_latest(self.registry), content_type="text/plain")

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:  # a probe that cannot connect says enough; processing goes on
            log.error("health.unavailable", host=self.host, port=self.port, error=str(exc))
            return
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.port
        log.info("health.started", url=f"http://{self.host}:{self.port}")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
