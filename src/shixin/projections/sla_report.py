"""Reading the deadlines: filters over obligations and the SLA summary per department and court."""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
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


# how long closed obligations took, binned (the audit report's and the dashboard's charts)
HOUR_BINS: tuple[tuple[float, float | None, str], ...] = (
    (0, 1, "< 1 h"),
    (1, 24, "1–24 h"),
    (24, 48, "1–2 d"),
    (48, 72, "2–3 d"),
    (72, 120, "3–5 d"),
    (120, 240, "5–10 d"),
    (240, None, "≥ 10 d"),
)


def percentile(values: Iterable[float], q: float) -> float | None:
    return percentile_of_sorted(sorted(values), q)


def percentile_of_sorted(ordered: Sequence[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))]


def median_of_sorted(ordered: Sequence[float]) -> float | None:
    """`statistics.median` of values already in order (no copy, no sort)."""
    n = len(ordered)
    if not n:
        return None
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def hours_distribution(ordered: Sequence[float]) -> dict[str, Any]:
    """Durations in hours, in order: how many, median, 95th percentile, and per `HOUR_BINS`
    (counted by bisection: a million durations cost as little as ten)."""
    median, p95 = median_of_sorted(ordered), percentile_of_sorted(ordered, 0.95)
    return {
        "unit": "hours",
        "closed": len(ordered),
        "median_hours": None if median is None else round(median, 2),
        "p95_hours": None if p95 is None else round(p95, 2),
        "bins": [
            {
                "label": label,
                "from_hours": low,
                "to_hours": high,
                "count": (len(ordered) if high is None else bisect_left(ordered, high))
                - bisect_left(ordered, low),
            }
            for low, high, label in HOUR_BINS
        ],
    }


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
        hours.sort()
        row["lift_hours_median"] = round(median_of_sorted(hours) or 0.0, 2)
        row["lift_hours_p95"] = round(percentile_of_sorted(hours, 0.95) or 0.0, 2)
    return groups
