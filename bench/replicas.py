"""Bytes per active subject an api worker's replicas hold (`web/replicas.py`,
`projections/rows.py`).

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
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class _Record:  # what the tailer's handlers read of a consumer record
    key: bytes
    value: bytes


def run(history: Path, size: dict[str, Any], bootstrap: str | None) -> dict[str, Any]:
    from shixin.audit.replay import Replay
    from shixin.consumers.department import table_name
    from shixin.projections.queries import changelog_topic
    from shixin.runtime.catalogs import get_catalog, get_policy
    from shixin.runtime.settings import Settings
    from shixin.web.replicas import ReplicaState, sources

    catalog = get_catalog()
    settings = Settings()
    with history.open(encoding="utf-8") as handle:
        lines = [line for _, line in zip(range(size["replicas_events"]), handle, strict=False)]
    replay = Replay(settings, catalog, get_policy("brief"))
    replay.feed_lines(lines)
    # each changelog's records as the broker carries them (key and value as JSON bytes)
    tables: dict[str, list[tuple[bytes, bytes]]] = {
        topic: [(json.dumps(key).encode(), json.dumps(store[key]).encode()) for key in store]
        for topic, store in [
            (changelog_topic(settings, "court", "entries"), replay.entries),
            (changelog_topic(settings, "court", "subjects"), replay.subjects),
            *(
                (changelog_topic(settings, f"department-{d}", table_name(d)), s)
                for d, s in replay.sanctions.items()
            ),
        ]
    }
    del replay

    def replicas() -> ReplicaState:
        # through the tailer's own handlers, each record's value bytes copied (as received)
        state = ReplicaState(catalog)
        for source in sources(settings, catalog, state):
            for key, raw in tables.get(source.topic, ()):
                source.apply(_Record(key, bytes(memoryview(raw))))
        return state

    def parsed() -> dict[str, dict[str, Any]]:
        return {
            name: {json.loads(key): json.loads(raw) for key, raw in rows}
            for name, rows in tables.items()
        }

    started = time.perf_counter()
    replicas()  # untraced: the tailer's CPU per record (what catching up costs)
    ingest_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for rows in tables.values():  # baseline: each record's key and value parsed, nothing kept
        for key, raw in rows:
            json.loads(key)
            json.loads(raw)
    parse_seconds = time.perf_counter() - started
    state, replica_bytes = _traced(replicas)
    active = state.subjects.count("sanctionable")
    state_subjects = list(state.subjects)
    del state
    _, parsed_bytes = _traced(parsed)
    rows = sum(len(t) for t in tables.values())
    json_bytes = sum(len(raw) for t in tables.values() for _, raw in t)
    return {
        "events": len(lines),
        "rows": rows,
        "subjects": len(state_subjects),
        "active_subjects": active,
        "json_bytes": json_bytes,
        "replica_bytes": replica_bytes,
        "parsed_bytes": parsed_bytes,
        "bytes_per_active_subject": round(replica_bytes / max(active, 1), 1),
        "parsed_bytes_per_active_subject": round(parsed_bytes / max(active, 1), 1),
        "json_bytes_per_active_subject": round(json_bytes / max(active, 1), 1),
        "ingest_us_per_row": round(ingest_seconds * 1e6 / max(rows, 1), 2),
        "parse_us_per_row": round(parse_seconds * 1e6 / max(rows, 1), 2),
    }
