"""Read models from the broker: the latest value of a key in a table's changelog.

A changelog holds every state a table key went through; its last record is the table's value.
Only the key's partition is read.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any

from shixin.audit.replay import partition_for
from shixin.consumers.department import table_name
from shixin.domain.checks import CheckResult, check
from shixin.domain.sanctions import DepartmentSanction
from shixin.domain.subjects import SubjectState
from shixin.runtime.catalogs import get_catalog
from shixin.runtime.reader import read_topic
from shixin.runtime.settings import Settings
from shixin.streams.topics import key_bytes


def changelog_topic(settings: Settings, role_id: str, table: str) -> str:
    return f"{settings.app_prefix}-{role_id}-{table}-changelog"


async def latest_value(bootstrap: str, topic: str, key: str, partitions: int) -> Any | None:
    wanted = key_bytes(key)
    value: Any | None = None
    async for record in read_topic(bootstrap, topic, [partition_for(key, partitions)]):
        if record.key == wanted:
            value = json.loads(record.value) if record.value is not None else None
    return value


def subject_document(raw_subject: Any | None, rows: dict[str, Any]) -> dict[str, Any]:
    """A subject and each department's row about it, as `query subject --json` shows them
    (and the HTTP API: one shape, built here)."""
    subject = None
    if raw_subject is not None:
        state = SubjectState.model_validate(raw_subject)
        subject = {
            "subject_id": state.subject_id,
            "kind": state.kind,
            "sanctionable": state.sanctionable,
            "active_entry_ids": state.active_entry_ids,
            "entries": [
                entry.model_dump(mode="json")
                for entry in sorted(state.entries.values(), key=lambda e: e.entry_id)
                if entry.named
            ],
        }
    sanctions: dict[str, Any] = {}
    for department_id, row in sorted(rows.items()):
        sanction = DepartmentSanction.model_validate(row)
        sanctions[department_id] = {
            "state": sanction.state,
            "measures": list(sanction.measures),
            "entry_ids": list(sanction.entry_ids),
        }
    return {"subject": subject, "sanctions": sanctions}


async def subject_view(bootstrap: str, settings: Settings, subject_id: str) -> dict[str, Any]:
    raw = await latest_value(
        bootstrap, changelog_topic(settings, "court", "subjects"), subject_id, settings.partitions
    )
    rows: dict[str, Any] = {}
    for department in get_catalog(settings.catalog).departments:
        row = await latest_value(
            bootstrap,
            changelog_topic(settings, f"department-{department.id}", table_name(department.id)),
            subject_id,
            settings.partitions,
        )
        if row is not None:
            rows[department.id] = row
    return subject_document(raw, rows)


# (department, action, "blocked"/"allowed") -> checks answered by this process (feedback statistics)
CHECK_COUNTS: Counter[tuple[str, str, str]] = Counter()


def count_check(result: CheckResult, departments: list[str]) -> None:
    blocked_by = {b.department for b in result.blocks}
    for department in departments:
        outcome = "blocked" if department in blocked_by else "allowed"
        CHECK_COUNTS[(department, result.action, outcome)] += 1


async def check_subject(
    bootstrap: str, settings: Settings, subject_id: str, action: str, today: date
) -> CheckResult:
    """The interception check against the live tables (their changelogs on the broker)."""
    catalog = get_catalog(settings.catalog)
    departments = sorted({d for m in catalog.measures_blocking(action) for d in m.departments})
    raw = await latest_value(
        bootstrap, changelog_topic(settings, "court", "subjects"), subject_id, settings.partitions
    )
    subject = SubjectState.model_validate(raw) if raw is not None else None
    rows: dict[str, DepartmentSanction] = {}
    for department in departments:
        row = await latest_value(
            bootstrap,
            changelog_topic(settings, f"department-{department}", table_name(department)),
            subject_id,
            settings.partitions,
        )
        if row is not None:
            rows[department] = DepartmentSanction.model_validate(row)
    result = check(catalog, subject_id, action, subject, rows, today)
    count_check(result, departments)
    return result
