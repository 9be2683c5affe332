"""Bytes per active subject held by a court worker (`shixin worker --role court`, its own process)
in the memory store and in the RocksDB store (with the bounded options of the settings).

How it measures: the worker starts and joins its group; its resident set size (RSS, /proc) then
is the start. The history's court events are published in `memory_chunks` parts; after each part
is folded (every court event and facet processed, the worker's `/metrics`) and 3 s more (the last
changelog writes, memtable flushes), the worker's RSS is read, and the tables' changelogs are read
from the broker to count what the worker holds: entries, subjects, active (sanctionable) subjects.
Nothing of the benchmark lives in the measured process.

- `bytes_per_active_subject`: RSS growth from start to the end of the history, over the active
  subjects at the end. At a small size this is mostly fixed costs (memtables, block caches,
  buffers) that do not grow with the list.
- `marginal_bytes_per_key`: RSS growth over the last part of the history per table key (entries
  + subjects) added in it: what one more key costs once the fixed costs are paid.
- `marginal_bytes_per_active_subject`: that, times the keys held per active subject at the end
  (the tables keep inactive subjects and entries that left the list too): what the list costs
  per active subject at scale, where the fixed costs are spread over millions.
- Baseline: the tables' own JSON bytes per active subject (what any store must keep somewhere).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import bench_settings, court_events, court_messages, produce
from bench.workers import (
    WorkerProcess,
    all_ready,
    close_session,
    progress,
    rss_of,
    worker_env,
)


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


async def _tables(bootstrap: str, settings: Any) -> dict[str, int]:
    """What the court worker holds, from its tables' changelogs (the last value of each key)."""
    from shixin.domain.subjects import SubjectState
    from shixin.projections.queries import changelog_topic
    from shixin.runtime.reader import read_topic

    out: dict[str, int] = {}
    for table in ("entries", "subjects"):
        latest: dict[bytes, bytes | None] = {}
        async for record in read_topic(bootstrap, changelog_topic(settings, "court", table)):
            latest[record.key] = record.value
        values = [v for v in latest.values() if v is not None]
        out[table] = len(values)
        out[f"{table}_json_bytes"] = sum(len(v) for v in values)
        if table == "subjects":
            out["active_subjects"] = sum(
                1 for v in values if SubjectState.model_validate(json.loads(v)).sanctionable
            )
    return out


async def _folded(
    workers: list[WorkerProcess], settings: Any, bootstrap: str, count: int, timeout: float
) -> None:
    """Until the court worker has processed `count` court events and every facet they sent."""
    from aiokafka import TopicPartition

    from shixin.runtime.offsets import fetched_end_offsets
    from shixin.streams.topics import facets_topic_name

    app_id = f"{settings.app_prefix}-court"
    court = [(settings.topic_court_events, p) for p in range(settings.partitions)]
    facets = facets_topic_name(settings)
    deadline = time.monotonic() + timeout
    ends: dict[tuple[str, int], int] | None = None
    while True:
        seen = await progress(workers, app_id)
        if ends is None and sum(seen.get(tp, 0) for tp in court) >= count:
            fetched = await fetched_end_offsets(
                bootstrap, [TopicPartition(facets, p) for p in range(settings.partitions)]
            )
            ends = {(tp.topic, tp.partition): offset for tp, offset in fetched.items()}
        if ends is not None and all(seen.get(tp, 0) >= end for tp, end in ends.items()):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the court worker did not finish in time")
        await asyncio.sleep(0.2)


async def run(history: Path, size: dict[str, Any], bootstrap: str) -> dict[str, Any]:
    store = size["memory_store"]
    data_dir = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    tag = "rocks" if store.startswith("rocksdb") else "mem"
    settings = bench_settings(
        partitions=size["partitions"], store=store, app_prefix=f"bench-memory-{tag}"
    )
    messages = court_messages(court_events(history, size["memory_events"]))
    chunks = max(2, int(size.get("memory_chunks", 2)))
    env = worker_env(settings, bootstrap, SHIXIN_DATA_DIR=str(data_dir))
    worker = WorkerProcess("court", env, data_dir / "worker.log").start()
    points: list[dict[str, Any]] = []
    try:
        await all_ready([worker], timeout=180)
        start_rss = rss_of(worker.pid)
        step = -(-len(messages) // chunks)
        for first in range(0, len(messages), step):
            part = messages[first : first + step]
            await produce(bootstrap, settings.topic_court_events, part, settings.partitions)
            await _folded([worker], settings, bootstrap, first + len(part), timeout=1800)
            await asyncio.sleep(3.0)
            rss = rss_of(worker.pid)
            held = await _tables(bootstrap, settings)
            points.append({"events": first + len(part), "rss_bytes": rss, **held})
            print(f"  memory {store}: {json.dumps(points[-1])}", file=sys.stderr, flush=True)
    finally:
        worker.stop()
        await close_session()
    end, before = points[-1], points[-2]
    active = end["active_subjects"]
    keys = end["entries"] + end["subjects"]
    growth = end["rss_bytes"] - start_rss
    added = keys - (before["entries"] + before["subjects"])
    per_key = (end["rss_bytes"] - before["rss_bytes"]) / added if added > 0 else None
    payload = end["entries_json_bytes"] + end["subjects_json_bytes"]
    return {
        "store": store,
        "events": len(messages),
        "entries": end["entries"],
        "subjects": end["subjects"],
        "active_subjects": active,
        "start_rss_bytes": start_rss,
        "rss_growth_bytes": growth,
        "points": points,
        "bytes_per_active_subject": round(growth / active, 1),
        "keys_per_active_subject": round(keys / active, 2),
        "marginal_bytes_per_key": None if per_key is None else round(per_key, 1),
        "marginal_bytes_per_active_subject": (
            None if per_key is None else round(per_key * keys / active, 1)
        ),
        "disk_bytes_per_active_subject": round(_dir_bytes(data_dir) / active, 1),
        "payload_bytes_per_active_subject": round(payload / active, 1),
    }
