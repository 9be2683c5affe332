"""The offline replay (pure core, every department) from JSON Lines and from an Avro archive of
the topics (`shixin archive export`), events/s; compared with the raw consume+decode limit."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import court_events, court_messages, produce


def _replayer() -> Any:
    from shixin.audit.replay import Replay
    from shixin.runtime.catalogs import get_catalog, get_policy
    from shixin.runtime.settings import Settings

    return Replay(Settings(), get_catalog(), get_policy("brief"))


async def run(history: Path, size: dict[str, Any], bootstrap: str) -> dict[str, Any]:
    from shixin.audit.archive import export_archive
    from shixin.audit.from_topics import replay_archive
    from shixin.runtime.settings import Settings

    count = size["replay_events"]
    with history.open(encoding="utf-8") as handle:
        lines = [line for _, line in zip(range(count), handle, strict=False)]
    replayer = _replayer()
    started = time.perf_counter()
    replayer.feed_lines(lines)
    jsonl_seconds = time.perf_counter() - started

    settings = Settings(partitions=size["partitions"])
    messages = court_messages(court_events(history, count))
    await produce(bootstrap, settings.topic_court_events, messages, settings.partitions)
    with tempfile.TemporaryDirectory() as tmp:
        await export_archive(bootstrap, settings, Path(tmp) / "archive")
        archived = _replayer()
        started = time.perf_counter()
        replay_archive(archived, Path(tmp) / "archive")
        archive_seconds = time.perf_counter() - started
    return {
        "events": replayer.events,
        "jsonl_seconds": round(jsonl_seconds, 2),
        "jsonl_events_per_s": round(replayer.events / jsonl_seconds, 1),
        "archive_events": archived.events,
        "archive_seconds": round(archive_seconds, 2),
        "archive_events_per_s": round(archived.events / archive_seconds, 1),
    }
