"""What every benchmark shares: the machine, histories, Avro messages, a broker, timing."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
Message = tuple[bytes, bytes]  # (key, value)


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or "unknown"
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def rss_bytes() -> int:
    """This process's resident set size now (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def history_lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as handle:
        yield from handle


def write_history(path: Path, debtors: int, seed: int) -> int:
    """`shixin generate`'s history as JSON Lines; returns the number of events."""
    from shixin.synthetic import generate_history

    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for event in generate_history(debtors, seed):
            handle.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    return count


def court_events(path: Path, limit: int | None = None) -> list[Any]:
    """The history's court events as validated models (the first `limit`)."""
    from shixin.domain.events import ANY_EVENT_ADAPTER

    out = []
    for line in history_lines(path):
        if limit is not None and len(out) >= limit:
            break
        out.append(ANY_EVENT_ADAPTER.validate_json(line))
    return out


def court_messages(events: Iterable[Any]) -> list[Message]:
    """Court events as `shixin publish` puts them on court.events (Avro single-object)."""
    from shixin.schemas.model_codec import encode_model
    from shixin.streams.topics import key_bytes

    return [(key_bytes(e.entry_id), encode_model(e)) for e in events]


def status_messages(events: Iterable[Any]) -> list[Message]:
    """The subject.status messages the court role sends for these events (by the pure core)."""
    from shixin.domain.entries import LifecycleError
    from shixin.projections.steps import intake_step, subject_step
    from shixin.runtime.catalogs import get_policy
    from shixin.streams.subject_status import encode_status
    from shixin.streams.topics import key_bytes

    policy = get_policy("brief")
    entries: dict[str, Any] = {}
    subjects: dict[str, Any] = {}
    out: list[Message] = []
    for n, event in enumerate(events):
        try:
            facets, _ = intake_step(entries, event, f"court.events/0@{n}", policy)
        except LifecycleError:
            continue
        for facet in facets:
            status = subject_step(subjects, facet)
            if status is not None:
                out.append((key_bytes(status.subject_id), encode_status(status)))
    return out


async def produce(bootstrap: str, topic: str, messages: list[Message], partitions: int) -> None:
    from aiokafka import AIOKafkaProducer

    from shixin.runtime.admin import ensure_topics
    from shixin.runtime.settings import Settings

    await ensure_topics(bootstrap, Settings(partitions=partitions), [topic])
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=64 * 1024, acks="all"
    )
    await producer.start()
    try:
        for key, value in messages:
            await producer.send(topic, key=key, value=value)
        await producer.flush()
    finally:
        await producer.stop()


def bench_settings(**overrides: Any) -> Any:
    """The settings `shixin run` uses (event clock), with the defaults' tuning otherwise."""
    from shixin.runtime.settings import Settings

    return Settings(action_clock="event", log_level="warning", **overrides)


async def until(condition: Callable[[], bool], timeout: float, step: float = 0.005) -> float:
    """Wait until `condition()` holds; the monotonic time it was first seen to."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark did not finish in time")
        await asyncio.sleep(step)
    return time.monotonic()


def quiet() -> None:
    from shixin.runtime.logging import configure_logging

    configure_logging("error", "console")
