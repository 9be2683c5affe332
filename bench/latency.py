"""Court event to department feedback at a steady rate: a worker process hosts the court role and
one department (aviation, automatic); this process publishes court events at `latency_rate`/s and
reads sanction.events, timing each listing to its `SanctionsApplied` for the debtor.

Baseline: one hop of the same broker at the same rate (aiokafka produce -> consume), the
transport's own latency; the pipeline makes four (court.events, facets, subject.status,
sanction.events), each with Faust's batching."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import bench_settings, court_events, median, percentile

DEPARTMENT = "aviation"


async def _steady(
    producer: Any, topic: str, messages: list[tuple[bytes, bytes]], rate: float, sent: list[float]
) -> None:
    began = time.monotonic()
    for n, (key, value) in enumerate(messages):
        delay = began + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent.append(time.monotonic())
        await producer.send(topic, key=key, value=value)
    await producer.flush()


async def one_hop(bootstrap: str, rate: float, count: int) -> list[float]:
    """Produce -> consume latency of plain aiokafka clients at `rate` messages/s."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    from shixin.runtime.admin import ensure_topics

    topic = "bench.hop"
    await ensure_topics(bootstrap, bench_settings(partitions=8), [topic])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    # a latency-tuned consumer: the embedded broker holds a fetch for most of fetch_max_wait_ms
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", fetch_max_wait_ms=10
    )
    await producer.start()
    await consumer.start()
    sent: list[float] = []
    latencies: list[float] = []
    try:
        messages = [(str(n).encode(), str(n).encode()) for n in range(count)]
        task = asyncio.create_task(_steady(producer, topic, messages, rate, sent))
        while len(latencies) < count:
            batch = await consumer.getmany(timeout_ms=100)
            now = time.monotonic()
            for records in batch.values():
                latencies += [now - sent[int(r.value)] for r in records]
        await task
    finally:
        await consumer.stop()
        await producer.stop()
    return latencies


async def run(history: Path, size: dict[str, Any], bootstrap: str) -> dict[str, Any]:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    from shixin.domain.events import DebtorListed
    from shixin.runtime.admin import ensure_topics
    from shixin.schemas.model_codec import decode_event, encode_model
    from shixin.streams.topics import key_bytes

    rate = float(size["latency_rate"])
    settings = bench_settings(partitions=size["partitions"])
    events = court_events(history, int(rate * size["latency_seconds"]) + 200)
    warm, steady = events[:200], events[200:]
    await ensure_topics(bootstrap, settings)
    env = {
        **os.environ,
        "SHIXIN_KAFKA_BOOTSTRAP": bootstrap,
        "SHIXIN_PARTITIONS": str(settings.partitions),
        "SHIXIN_LOG_LEVEL": "error",
    }
    log_file = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the worker ends
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from shixin.cli import main; main()",
            "worker",
            "--role",
            f"court,department:{DEPARTMENT}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=1, acks="all")
    consumer = AIOKafkaConsumer(
        settings.topic_sanction_events,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=10,
    )
    await producer.start()
    await consumer.start()
    # (debtor subject id, entry id) -> index of the listing in `steady`
    listings = {
        (e.subject.id, e.entry_id): n for n, e in enumerate(steady) if isinstance(e, DebtorListed)
    }
    sent: list[float] = []
    latencies: list[float] = []
    warmed = asyncio.Event()
    try:
        for e in warm:
            await producer.send(
                settings.topic_court_events, key=key_bytes(e.entry_id), value=encode_model(e)
            )
        await producer.flush()

        async def read() -> None:
            while True:
                batch = await consumer.getmany(timeout_ms=100)
                now = time.monotonic()
                for records in batch.values():
                    for record in records:
                        warmed.set()
                        item = decode_event(record.value)
                        if item.type != "SanctionsApplied" or item.department != DEPARTMENT:
                            continue
                        for entry_id in item.entry_ids:  # type: ignore[union-attr]
                            n = listings.pop((item.subject_id, entry_id), None)  # type: ignore[union-attr]
                            if n is not None and n < len(sent):
                                latencies.append(now - sent[n])

        reader = asyncio.create_task(read())
        try:
            await asyncio.wait_for(warmed.wait(), timeout=120)
        except TimeoutError:
            log_file.seek(0)
            sys.stderr.write(log_file.read().decode(errors="replace")[-3000:])
            raise
        await asyncio.sleep(1.0)
        messages = [(key_bytes(e.entry_id), encode_model(e)) for e in steady]
        await _steady(producer, settings.topic_court_events, messages, rate, sent)
        expected = sum(1 for (_, _), n in listings.items())
        deadline = time.monotonic() + 20
        while listings and time.monotonic() < deadline and len(latencies) < expected:
            await asyncio.sleep(0.1)
        reader.cancel()
    finally:
        await consumer.stop()
        await producer.stop()
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
        log_file.close()
    hop = await one_hop(bootstrap, rate, min(len(steady), 5000))
    return {
        "rate_per_s": rate,
        "events": len(steady),
        "listings_timed": len(latencies),
        "median_ms": round(median(latencies) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "hop_median_ms": round(median(hop) * 1000, 2),
        "hop_p99_ms": round(percentile(hop, 0.99) * 1000, 2),
    }
