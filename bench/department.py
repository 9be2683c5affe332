"""One department role (aviation: automatic, binds persons and entities) over pre-published
subject.status snapshots: statuses/s from the first processed to the last."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import bench_settings, court_events, produce, status_messages, until

DEPARTMENT = "aviation"


async def run(history: Path, size: dict[str, Any], bootstrap: str) -> dict[str, Any]:
    from shixin.runtime.catalogs import get_catalog
    from shixin.streams.counters import PROGRESS
    from shixin.streams.pipeline import hosted

    settings = bench_settings(partitions=size["partitions"])
    messages = status_messages(court_events(history, size["department_events"]))
    await produce(bootstrap, settings.topic_subject_status, messages, settings.partitions)
    app_id = f"{settings.app_prefix}-department-{DEPARTMENT}"
    topic = settings.topic_subject_status

    def progress() -> int:
        return sum(PROGRESS[(app_id, topic, p)] for p in range(settings.partitions))

    async with hosted(f"department:{DEPARTMENT}", settings, bootstrap, get_catalog()):
        first = await until(lambda: progress() > 0, timeout=120)
        done = await until(lambda: progress() >= len(messages), timeout=900)
    seconds = done - first
    return {
        "department": DEPARTMENT,
        "statuses": len(messages),
        "seconds": round(seconds, 2),
        "statuses_per_s": round(len(messages) / seconds, 1),
    }
