"""Reading the deadlines: filters over obligations and the SLA summary per department and court."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from shixin.domain.obligations import Obligation
from shixin.projections.queries import changelog_topic
from shixin.runtime.reader import read_topic
from shixin.runtime.settings import Settings


async def monitored_obligations(bootstrap: str, settings: Settings) -> list[Obligation]:
    """Every obligation the sla role holds (the last value of each key in its changelog)."""
    latest: dict[bytes, Any] = {}
    async for record in read_topic(bootstrap, changelog_topic(settings, "sla", "obligations")):
        latest[record.key] = json.loads(record.value) if record.value is not None else None
    return [Obligation.model_validate(v["obligation"]) for v in latest.values() if v is not None]


def select(
    obligations: Iterable[Obligation],
    now: datetime,
    status: str | None = None,
    department: str | None = None,
    court: str | None = None,
) -> list[Obligation]:
    return sorted(
        (
            o
            for o in obligations
            if o.opened_at <= now
            and (status is None or o.judged(now) == status)
            and (department is None or o.department == department)
            and (court is None or o.court == court)
        ),
        key=lambda o: (o.due_on.isoformat() if o.due_on else "9999", o.id),
    )


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[index]


def summary(obligations: Iterable[Obligation], now: datetime) -> dict[str, Any]:
    """Per department and per court: on time, late, breached, open; time to lift in hours."""
    groups: dict[str, dict[str, dict[str, Any]]] = {"departments": {}, "courts": {}}
    lift_hours: dict[str, list[float]] = defaultdict(list)
    for o in obligations:
        if o.opened_at > now:
            continue
        verdict = o.judged(now)
        keys = []
        if o.department:
            keys.append(("departments", o.department))
        if o.court and o.kind != "department_lift":
            keys.append(("courts", o.court))
        for group, key in keys:
            row = groups[group].setdefault(key, {"met": 0, "missed": 0, "breached": 0, "open": 0})
            row[verdict] += 1
        if o.kind == "department_lift" and o.closed_at is not None and o.department:
            lift_hours[o.department].append((o.closed_at - o.opened_at).total_seconds() / 3600)
    for department, hours in lift_hours.items():
        row = groups["departments"][department]
        row["lift_hours_median"] = round(statistics.median(hours), 2)
        row["lift_hours_p95"] = round(percentile(hours, 0.95) or 0.0, 2)
    return groups
