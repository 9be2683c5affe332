"""Bytes per active subject held by the court role (entries + subjects tables), in the memory
store and in the RocksDB store: the worker's resident memory after folding a history, less its
resident memory before, over the active subjects. Baseline: the tables' own JSON bytes per active
subject (what any store must keep somewhere)."""

from __future__ import annotations

import asyncio
import gc
import json
from pathlib import Path
from typing import Any

from bench.common import bench_settings, court_events, court_messages, produce, rss_bytes, until


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


async def run(history: Path, size: dict[str, Any], bootstrap: str) -> dict[str, Any]:
    import tempfile

    from shixin.domain.subjects import SubjectState
    from shixin.runtime.catalogs import get_catalog
    from shixin.streams.app import PROGRESS
    from shixin.streams.pipeline import hosted

    store = size["memory_store"]
    data_dir = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    settings = bench_settings(partitions=size["partitions"], store=store, data_dir=str(data_dir))
    events = court_events(history, size["memory_events"])
    messages = court_messages(events)
    count = len(messages)
    del events
    app_id = f"{settings.app_prefix}-court"

    def progress() -> int:
        return sum(
            PROGRESS[(app_id, settings.topic_court_events, p)] for p in range(settings.partitions)
        )

    async with hosted("court", settings, bootstrap, get_catalog()) as roles:
        assert roles.court is not None
        gc.collect()
        before = rss_bytes()
        await produce(bootstrap, settings.topic_court_events, messages, settings.partitions)
        del messages
        await until(lambda: progress() >= count, timeout=900, step=0.1)
        await asyncio.sleep(3.0)  # the subject fold's last batches, the changelog's last writes
        gc.collect()
        after = rss_bytes()
        subjects = dict(roles.court.subjects.items())
        entries = dict(roles.court.entries.items())
    active = sum(1 for v in subjects.values() if SubjectState.model_validate(v).sanctionable)
    payload = sum(len(json.dumps(v)) for v in subjects.values())
    payload += sum(len(json.dumps(v)) for v in entries.values())
    return {
        "store": store,
        "entries": len(entries),
        "subjects": len(subjects),
        "active_subjects": active,
        "rss_growth_bytes": after - before,
        "bytes_per_active_subject": round((after - before) / active, 1),
        "disk_bytes_per_active_subject": round(_dir_bytes(data_dir) / active, 1),
        "payload_bytes_per_active_subject": round(payload / active, 1),
    }
