"""Reading what the pipeline wrote, the way a committed-only reader sees it."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer

from shixin.runtime.security import client_options
from shixin.runtime.settings import Settings
from shixin.schemas.model_codec import decode_event


async def committed_records(bootstrap: str, settings: Settings, topic: str) -> list[Any]:
    """Every record of `topic` that a read_committed consumer sees now."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        **client_options(settings),
    )
    await consumer.start()
    out = []
    try:
        while batch := await consumer.getmany(timeout_ms=2000):
            for records in batch.values():
                out += records
    finally:
        await consumer.stop()
    return out


async def committed_events(bootstrap: str, settings: Settings, topic: str) -> list[Any]:
    """The decodable events among them (a test may have written bytes that are not events)."""
    out = []
    for record in await committed_records(bootstrap, settings, topic):
        try:
            out.append(decode_event(record.value))
        except Exception:
            continue
    return out


async def wait_for(
    bootstrap: str, settings: Settings, topic: str, predicate: Any, timeout: float = 120
) -> list[Any]:
    """Poll `topic` until some events satisfy `predicate`; return those events."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [e for e in await committed_events(bootstrap, settings, topic) if predicate(e)]
        if found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(1)
