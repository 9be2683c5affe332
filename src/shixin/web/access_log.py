"""The access log: every read of personal data through the API, who read which subjects when.

Records go to the access-log topic (JSON, keyed by the reader's name) and every api worker
replicates that topic, so an auditor asks any worker. Records are batched (one message every
20 ms) and not waited for: a check must stay within milliseconds. A failed delivery is logged
and counted; a crash may lose the records of the last few tens of milliseconds.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from shixin.projections.dumps import CST
from shixin.runtime.logging import get_logger
from shixin.web.auth import Principal

log = get_logger(__name__)


class AccessLog:
    """Records are collected and written every `interval` seconds as one message (a JSON array
    of records), so a check costs a list append, not a produce call."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, interval: float = 0.02) -> None:
        self.producer = producer
        self.topic = topic
        self.interval = interval
        self.failures = 0
        self._pending: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None

    async def record(
        self, principal: Principal, method: str, path: str, subjects: list[str]
    ) -> None:
        self._pending.append(
            {
                # the text cst(datetime.now().astimezone()) gave, without the local zone's look-up
                "at": datetime.now(CST).isoformat(),
                "who": principal.name,
                "role": principal.role,
                "method": method,
                "path": path,
                "subjects": sorted(set(subjects)),
            }
        )
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self.interval)
        await self.flush()

    async def flush(self) -> None:
        """Hand every pending record to the producer."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            future = await self.producer.send(
                self.topic, value=json.dumps(batch, ensure_ascii=False).encode("utf-8")
            )
        except Exception as exc:
            self._failed(len(batch), exc)
            return
        future.add_done_callback(lambda f: self._delivered(f, len(batch)))

    def _delivered(self, future: asyncio.Future[Any], count: int) -> None:
        if future.cancelled():
            self._failed(count, "cancelled")
        elif future.exception() is not None:
            self._failed(count, future.exception())

    def _failed(self, count: int, error: object) -> None:
        self.failures += count
        log.error("access_log.not_delivered", records=count, error=repr(error))
