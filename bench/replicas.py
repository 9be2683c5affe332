"""Bytes per active subject an api worker's replicas hold (`web/replicas.py`, `web/rows.py`).

The history's first `replicas_events` events are replayed with the pure core (the rows the live
tables would hold: entries, subjects, every department's sanctions); each row's JSON, as its
changelog record carries it, is then fed to a `ReplicaState` as the api's tailer feeds it, and the
memory it takes is traced (`tracemalloc`). Baseline, same run: the same rows held as parsed
dicts, as the replicas held them until session 7. (The sla role's obligations table is left out:
the replay does not build it.)
"""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

NEEDS_BROKER = False


def _traced(build: Callable[[], Any]) -> tuple[Any, int]:
    """What `build()` returns, and the bytes it still holds once built."""
    gc.collect()
    tracemalloc.start()
    try:
        held = build()
        gc.collect()
        size = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return held, size


def run(history: Path, size: dict[str, Any], bootstrap: str | None) -> dict[str, Any]:
    from shixin.audit.replay import Replay
    from shixin.runtime.catalogs import get_catalog, get_policy
    from shixin.runtime.settings import Settings
    from shixin.web.replicas import ReplicaState

    catalog = get_catalog()
    with history.open(encoding="utf-8") as handle:
        lines = [line for _, line in zip(range(size["replicas_events"]), handle, strict=False)]
    replay = Replay(Settings(), catalog, get_policy("brief"))
    replay.feed_lines(lines)
    # each table's records as the changelog carries them (key and value as JSON bytes)
    tables: dict[str, list[tuple[bytes, bytes]]] = {
        name: [(json.dumps(key).encode(), json.dumps(store[key]).encode()) for key in store]
        for name, store in [
            ("entries", replay.entries),
            ("subjects", replay.subjects),
            *((f"sanctions-{d}", s) for d, s in replay.sanctions.items()),
        ]
    }
    del replay

    def replicas() -> ReplicaState:
        # as the tailer: each record's key parsed, its value's bytes copied (kept as received)
        state = ReplicaState(catalog)
        for key, raw in tables["entries"]:
            state.put_entry_record(json.loads(key), bytes(memoryview(raw)))
        for key, raw in tables["subjects"]:
            state.subjects.put_raw(json.loads(key), bytes(memoryview(raw)))
        for dept, rows in state.sanctions.items():
            for key, raw in tables[f"sanctions-{dept}"]:
                rows.put_raw(json.loads(key), bytes(memoryview(raw)))
        return state

    def parsed() -> dict[str, dict[str, Any]]:
        return {
            name: {json.loads(key): json.loads(raw) for key, raw in rows}
            for name, rows in tables.items()
        }

    state, replica_bytes = _traced(replicas)
    active = state.subjects.count("sanctionable")
    del state
    _, parsed_bytes = _traced(parsed)
    rows = sum(len(t) for t in tables.values())
    json_bytes = sum(len(raw) for t in tables.values() for _, raw in t)
    return {
        "events": len(lines),
        "rows": rows,
        "subjects": len(tables["subjects"]),
        "active_subjects": active,
        "json_bytes": json_bytes,
        "replica_bytes": replica_bytes,
        "parsed_bytes": parsed_bytes,
        "bytes_per_active_subject": round(replica_bytes / max(active, 1), 1),
        "parsed_bytes_per_active_subject": round(parsed_bytes / max(active, 1), 1),
        "json_bytes_per_active_subject": round(json_bytes / max(active, 1), 1),
    }
