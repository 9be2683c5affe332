"""The limit and the floor: aiokafka consume + fastavro decode of the court events, and a bare
Faust agent (decode + one table write) over the very same messages."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bench.common import bench_settings, court_events, court_messages, produce, until

TOPIC = "bench.raw"


async def consume_decode(bootstrap: str, count: int) -> float:
    """Messages/s of a getmany loop decoding every value (the machine's limit)."""
    from aiokafka import AIOKafkaConsumer

    from shixin.schemas.codec import decode

    consumer = AIOKafkaConsumer(
        TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        seen = 0
        started = 0.0
        while seen < count:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            for records in batch.values():
                if not started:
                    started = time.monotonic()  # from the first record: no start-up cost
                for record in records:
                    decode(record.value)
                seen += sum(len(r) for r in batch.values())
        return count / (time.monotonic() - started)
    finally:
        await consumer.stop()


async def faust_bare(bootstrap: str, count: int, partitions: int) -> float:
    """Messages/s of a bare Faust agent: decode, one table write (Faust's per-message floor),
    with the settings shixin's roles use (producer linger, quiet loggers)."""
    from shixin.runtime.logging import quiet_libraries
    from shixin.schemas.codec import decode
    from shixin.streams.app import make_app
    from shixin.streams.topics import raw_topic

    settings = bench_settings(partitions=partitions)
    app = make_app("bench-bare", settings, bootstrap)
    table = app.Table("bare", partitions=partitions)
    topic = raw_topic(app, TOPIC, settings, raw_keys=True)
    seen: dict[str, Any] = {"n": 0, "first": 0.0, "last": 0.0}

    async def agent(stream: Any) -> None:
        async for event in stream.events():
            name, record = decode(event.message.value)
            table[record["entry_id"]] = name
            if not seen["n"]:
                seen["first"] = time.monotonic()
            seen["n"] += 1
            seen["last"] = time.monotonic()

    app.agent(topic, name="bare")(agent)
    await app.start()
    quiet_libraries()
    try:
        await until(lambda: seen["n"] >= count, timeout=600)
    finally:
        await asyncio.wait_for(app.stop(), timeout=30)
    return (count - 1) / (seen["last"] - seen["first"])


async def run(history: Path, size: dict[str, Any], bootstrap: str) -> dict[str, Any]:
    partitions = size["partitions"]
    messages = court_messages(court_events(history, size["raw_messages"]))
    await produce(bootstrap, TOPIC, messages, partitions)
    limit = await consume_decode(bootstrap, len(messages))
    floor = await faust_bare(bootstrap, len(messages), partitions)
    return {
        "messages": len(messages),
        "consume_decode_per_s": round(limit, 1),
        "faust_bare_per_s": round(floor, 1),
    }
