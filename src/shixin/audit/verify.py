"""`shixin audit verify`: the live tables (their changelogs on the broker) against a fresh replay
of the topics. Every difference is listed; none found is a result too."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from shixin.audit.from_topics import replay_topics
from shixin.audit.replay import Replay
from shixin.consumers.department import table_name
from shixin.domain.catalog import Catalog
from shixin.domain.policy import DeadlinePolicy
from shixin.projections import dumps
from shixin.projections.queries import changelog_topic
from shixin.runtime.reader import read_topic
from shixin.runtime.settings import Settings


async def read_table(bootstrap: str, topic: str) -> dict[str, Any]:
    """A table as its changelog leaves it: the last value of every key (deleted keys left out)."""
    table: dict[str, Any] = {}
    async for record in read_topic(bootstrap, topic):
        if record.key is None:
            continue
        key = str(json.loads(record.key))
        if record.value is None:
            table.pop(key, None)
        else:
            table[key] = json.loads(record.value)
    return table


async def live_tables(
    bootstrap: str, settings: Settings, catalog: Catalog
) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, Any]]]:
    entries = await read_table(bootstrap, changelog_topic(settings, "court", "entries"))
    subjects = await read_table(bootstrap, changelog_topic(settings, "court", "subjects"))
    sanctions = {
        d.id: await read_table(
            bootstrap, changelog_topic(settings, f"department-{d.id}", table_name(d.id))
        )
        for d in catalog.departments
    }
    return entries, subjects, sanctions


def differences(live: dict[str, Any], replayed: dict[str, Any]) -> list[dict[str, Any]]:
    """Key by key, file by file: what the live tables say and what the replay says."""
    found: list[dict[str, Any]] = []

    def compare(view: str, path: str, a: Any, b: Any) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                compare(view, f"{path}/{key}" if path else str(key), a.get(key), b.get(key))
        elif a != b:
            found.append({"view": view, "key": path, "live": a, "replay": b})

    for view in ("entries", "subjects", "sanctions", "obligations", "findings"):
        compare(view, "", live.get(view), replayed.get(view))
    return found


async def verify(
    bootstrap: str,
    settings: Settings,
    catalog: Catalog,
    policy: DeadlinePolicy,
    now: datetime | None = None,
    departments: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Differences between the live tables and a replay of the topics (judged at `now`).

    `departments`: compare only these (the ones that run); default every catalog department
    whose table exists on the broker."""
    replayer = Replay(settings, catalog, policy)
    await replay_topics(replayer, bootstrap)
    now = now or replayer.latest
    entries, subjects, sanctions = await live_tables(bootstrap, settings, catalog)
    wanted = departments or [d for d, table in sanctions.items() if table]
    live = dumps.all_views(entries, subjects, {d: sanctions[d] for d in wanted}, [], now)
    replayed = dumps.all_views(
        replayer.entries,
        replayer.subjects,
        {d: replayer.sanctions[d] for d in wanted},
        [],
        now,
    )
    return differences(live, replayed)
