"""The access log: every read of personal data through the API, who read which subjects when.

Records go to the access-log topic (JSON, keyed by the reader's name) and every api worker
replicates that topic, so an auditor asks any worker. Records are batched (one message every
20 ms) and not waited for: a check must stay within milliseconds. A failed delivery is logged
and counted; a crash may lose the records of the last few tens of milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from pydantic_core import to_json

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
        self._pending: list[tuple[int, Principal, str, str, Sequence[str]]] = []
        self._second = -1  # `_at`: the last second written, and its text
        self._second_text = ""
        self._task: asyncio.Task[None] | None = None

    def record(self, principal: Principal, method: str, path: str, subjects: Sequence[str]) -> None:
        """Note a read; it is written with the next batch. (Not a coroutine: a check pays for
        no await here.)"""
        self._pending.append((time.time_ns(), principal, method, path, subjects))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self.interval)
        await self.flush()

    async def flush(self) -> None:
        """Hand every pending record to the producer."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        batch = [
            {
                "at": self._at(at),
                "who": principal.name,
                "role": principal.role,
                "method": method,
                "path": path,
                "subjects": list(subjects) if len(subjects) == 1 else sorted(set(subjects)),
            }
            for at, principal, method, path, subjects in pending
        ]
        try:
            future = await self.producer.send(self.topic, value=to_json(batch))
        except Exception as exc:
            self._failed(len(batch), exc)
            return
        future.add_done_callback(lambda f: self._delivered(f, len(batch)))

    def _at(self, ns: int) -> str:
        """The text `datetime.fromtimestamp(ns / 1e9, CST).isoformat()` gives (microseconds
        cut, not rounded), the date and time worked out once per second: the records of a
        batch mostly share theirs."""
        second, rest = divmod(ns, 1_000_000_000)
        if second != self._second:
            self._second = second
            self._second_text = datetime.fromtimestamp(second, CST).strftime("%Y-%m-%dT%H:%M:%S")
        micro = rest // 1000
        return f"{self._second_text}.{micro:06d}+08:00" if micro else f"{self._second_text}+08:00"

    def _delivered(self, future: asyncio.Future[Any], count: int) -> None:
        if future.cancelled():
            self._failed(count, "cancelled")
        elif future.exception() is not None:
            self._failed(count, future.exception())

    def _failed(self, count: int, error: object) -> None:
        self.failures += count
        log.error("access_log.not_delivered", records=count, error=repr(error))
