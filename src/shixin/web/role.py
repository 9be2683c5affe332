"""The `api` role: replicas of the tables, the HTTP server, the metrics poller, one producer."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaProducer

from shixin.domain.catalog import Catalog
from shixin.runtime.admin import ensure_topics
from shixin.runtime.logging import get_logger
from shixin.runtime.offsets import fetched_end_offsets
from shixin.runtime.security import client_options
from shixin.runtime.settings import Settings
from shixin.web.metrics import OffsetPoller
from shixin.web.replicas import ReplicaState, Tailer, sources
from shixin.web.server import Api

log = get_logger(__name__)

# how often the rows replicated since the last freeze leave the cycle collector's walks
FREEZE_EVERY = 600.0


def freeze_heap() -> None:
    """Collect once, then freeze every object left out of the cycle collector's walks."""
    collected = gc.collect()
    gc.freeze()
    log.info("api.gc_frozen", objects=gc.get_freeze_count(), collected=collected)


class ApiRole:
    def __init__(self, settings: Settings, bootstrap: str, catalog: Catalog) -> None:
        self.settings = settings
        self.bootstrap = bootstrap
        self.catalog = catalog
        self.state = ReplicaState(catalog, settings.access_log_memory)
        self.tailer = Tailer(
            bootstrap, sources(settings, catalog, self.state), on_caught_up=freeze_heap
        )
        self.api: Api | None = None
        self.poller: OffsetPoller | None = None
        self.port: int | None = None
        self._producer: AIOKafkaProducer | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[Any]] = []

    @property
    def url(self) -> str:
        return f"http://{self.settings.web_host}:{self.port}"

    async def start(self) -> None:
        await ensure_topics(self.bootstrap, self.settings, [self.settings.topic_access_log])
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            linger_ms=5,
            acks="all",
            **client_options(self.settings),
        )
        await self._producer.start()
        self.api = api = Api(self.settings, self.catalog, self.state, self._producer, self.tailer)
        self.poller = OffsetPoller(self.bootstrap, self.settings, self.catalog, api.metrics.offsets)
        self._tasks = [
            asyncio.create_task(self.tailer.run(), name="api-replicas"),
            asyncio.create_task(self.poller.run(), name="api-metrics"),
            asyncio.create_task(self._freeze_replicas(), name="api-gc"),
        ]
        self._runner = web.AppRunner(api.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.web_host, self.settings.web_port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.settings.web_port
        if not self.settings.api_tokens:
            log.warning("api.no_tokens", note="only the public list is served")
        log.info("api.started", url=self.url, tokens=len(self.settings.api_tokens))

    async def stop(self) -> None:
        took: dict[str, float] = {}  # seconds per part: what to look at when a stop is slow
        started = time.monotonic()
        if self._runner is not None:
            await self._runner.cleanup()
        took["http"], started = round(time.monotonic() - started, 2), time.monotonic()
        if self.api is not None:
            await self.api.access.flush()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        took["tasks"], started = round(time.monotonic() - started, 2), time.monotonic()
        if self._producer is not None:
            await self._producer.stop()
        took["producer"] = round(time.monotonic() - started, 2)
        log.info("api.stopped", seconds=took)

    async def _freeze_replicas(self) -> None:
        """Take what the replicas hold out of the cycle collector's full walks. One walked
        every row when rows were dicts (0.29 s at 10,000 subjects, a pause every check waiting
        then shared); rows are bytes now, never walked, but the label sets, the public list's
        index and the remembered answers grow with the list too. Once the replicas have caught
        up (by the tailer, before `/readyz` says ready, so that first walk delays no check), and
        again every `FREEZE_EVERY` seconds for what came since; a collection first, so no
        garbage cycle is frozen for good (it walks only what is not frozen yet). What is
        replaced is freed by its reference count, frozen or not."""
        while True:
            await asyncio.sleep(FREEZE_EVERY)
            freeze_heap()

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until the replicas have read everything now in their topics (tests, tools)."""
        await asyncio.wait_for(self.tailer.ready.wait(), timeout)
        if self._producer is not None and self.api is not None:
            await self.api.access.flush()  # access-log records of this worker are on the broker
            await self._producer.flush()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        ends = await fetched_end_offsets(self.bootstrap, list(self.tailer.positions))
        while any(self.tailer.positions.get(tp, 0) < end for tp, end in ends.items()):
            if loop.time() > deadline:
                raise TimeoutError("the api replicas did not catch up in time")
            await asyncio.sleep(0.05)
