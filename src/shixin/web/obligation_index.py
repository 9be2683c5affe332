"""What the dashboard, `/metrics`, `/v1/sla` and `/v1/breaches` ask of every obligation, kept as
obligations come.

The api's replica of the sla role's `obligations` holds about five obligations per subject (a
department lift per department binding a subject whose entry left the list, and the courts'
deadlines). Judging every one at every request (the dashboard refreshes every 2 s, Prometheus
scrapes `/metrics`) took 2.7 µs per obligation once parsed: about 13 s per request at a million
subjects, every check waiting. A closed obligation's verdict (and one without a due date) does
not change with time, so it is counted once; an open one with a due date is kept in due-date
order, and the breached ones at `now` are those due before today (`domain.deadlines.verdict`);
the same per department and per court for the SLA summary, with each department's lift times in
order for its median and 95th percentile.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from heapq import merge
from typing import Any

from sortedcontainers import SortedList

from shixin.domain.deadlines import local_date
from shixin.domain.obligations import Obligation
from shixin.projections.sla_report import percentile


class ObligationIndex:
    def __init__(self) -> None:
        # obligation id -> (kind, verdict if it no longer depends on the time, due date, the
        # summary's rows it counts in, its department and court)
        self._of: dict[str, tuple[str, str | None, date | None, tuple[Group, ...], Place]] = {}
        self._fixed: Counter[tuple[str, str]] = Counter()
        self._due: dict[str, SortedList] = {}  # kind -> due dates of the open obligations
        self._by_due = SortedList()  # (due date, id) of the open obligations: select()'s order
        # verdict -> (due date's text or "9999", id) of the obligations judged so at any time
        self._fixed_order: dict[str, SortedList] = {}
        self._lift_hours: dict[str, float] = {}  # closed department lifts: hours to lift
        self._latest_opened: datetime | None = None
        # the same per department and per court (`sla_report.summary`'s groups)
        self._group_fixed: Counter[tuple[Group, str]] = Counter()
        self._group_due: dict[Group, SortedList] = {}
        self._department_hours: dict[str, SortedList] = {}

    def put(self, key: str, obligation: Obligation | None) -> None:
        """The obligation now recorded under `key` (None: deleted)."""
        old = self._of.pop(key, None)
        if old is not None:
            kind, fixed, due, groups, _ = old
            if fixed is not None:
                self._fixed[(kind, fixed)] -= 1
                self._fixed_order[fixed].remove(_order(due, key))
                for group in groups:
                    self._group_fixed[(group, fixed)] -= 1
            else:
                self._due[kind].remove(due)
                self._by_due.remove((due, key))
                for group in groups:
                    self._group_due[group].remove(due)
            hours = self._lift_hours.pop(key, None)
            if hours is not None:
                self._department_hours[groups[0][1]].remove(hours)
        if obligation is None:
            return
        o = obligation
        if self._latest_opened is None or o.opened_at > self._latest_opened:
            self._latest_opened = o.opened_at
        groups = _groups(o)
        if o.closed_at is not None or o.due_on is None:
            fixed = o.judged(o.opened_at)  # closed, or never due: the same at any time
            self._fixed[(o.kind, fixed)] += 1
            self._fixed_order.setdefault(fixed, SortedList()).add(_order(o.due_on, key))
            for group in groups:
                self._group_fixed[(group, fixed)] += 1
            self._of[key] = (o.kind, fixed, o.due_on, groups, (o.department, o.court))
            if o.kind == "department_lift" and o.closed_at is not None and o.department:
                hours = (o.closed_at - o.opened_at).total_seconds() / 3600
                self._lift_hours[key] = hours
                self._department_hours.setdefault(o.department, SortedList()).add(hours)
            return
        self._due.setdefault(o.kind, SortedList()).add(o.due_on)
        self._by_due.add((o.due_on, key))
        for group in groups:
            self._group_due.setdefault(group, SortedList()).add(o.due_on)
        self._of[key] = (o.kind, None, o.due_on, groups, (o.department, o.court))

    def answers_at(self, now: datetime) -> bool:
        """Whether the index can judge at `now`: every obligation was opened by then (else an
        obligation opened later must be left out, and only a full scan knows which)."""
        return self._latest_opened is None or self._latest_opened <= now

    def counts(self, now: datetime) -> Counter[tuple[str, str]]:
        """(kind, verdict) -> obligations, as judged at `now` (`answers_at(now)` must hold)."""
        today = local_date(now)
        out = Counter({k: n for k, n in self._fixed.items() if n > 0})
        for kind, dues in self._due.items():
            breached = dues.bisect_left(today)  # due before today: the deadline has passed
            if breached:
                out[(kind, "breached")] += breached
            if len(dues) > breached:
                out[(kind, "open")] += len(dues) - breached
        return out

    def breached(
        self,
        now: datetime,
        limit: int | None = None,
        department: str | None = None,
        court: str | None = None,
    ) -> list[str]:
        """The ids of the breached obligations (of a department, of a court) in `select`'s
        order (due date, then id), the first `limit` of them (`answers_at(now)` must hold)."""
        today = local_date(now)
        out: list[str] = []
        for due, key in self._by_due:
            if due >= today or (limit is not None and len(out) >= limit):
                break
            if self._placed(key, department, court):
                out.append(key)
        return out

    def listed(
        self, now: datetime, status: str | None, department: str | None, court: str | None
    ) -> list[str]:
        """The ids `sla_report.select` gives, in its order (`answers_at(now)` must hold)."""
        if status == "breached":
            return self.breached(now, None, department, court)
        today = local_date(now)
        runs: list[Iterable[tuple[str, str]]] = []
        if status in (None, "open"):  # open ones not yet due, and never-due ones
            start = self._by_due.bisect_left((today, ""))
            runs.append(_order(due, key) for due, key in self._by_due.islice(start))
        if status is None:
            runs.append(_order(due, key) for due, key in self._by_due.islice(0, start))
            runs += self._fixed_order.values()
        elif status in self._fixed_order:
            runs.append(self._fixed_order[status])
        return [key for _, key in merge(*runs) if self._placed(key, department, court)]

    def _placed(self, key: str, department: str | None, court: str | None) -> bool:
        if department is None and court is None:
            return True
        place = self._of[key][4]
        return (department is None or place[0] == department) and (
            court is None or place[1] == court
        )

    def lift_hours(self) -> list[float]:
        return list(self._lift_hours.values())

    def summary(self, now: datetime) -> dict[str, Any]:
        """`sla_report.summary` of every obligation at `now` (`answers_at(now)` must hold)."""
        today = local_date(now)
        groups: dict[str, dict[str, dict[str, Any]]] = {"departments": {}, "courts": {}}

        def row(group: Group) -> dict[str, Any]:
            return groups[group[0]].setdefault(
                group[1], {"met": 0, "missed": 0, "breached": 0, "open": 0}
            )

        for (group, verdict), count in sorted(self._group_fixed.items()):
            if count > 0:
                row(group)[verdict] += count
        for group, dues in sorted(self._group_due.items()):
            breached = dues.bisect_left(today)
            if breached:
                row(group)["breached"] += breached
            if len(dues) > breached:
                row(group)["open"] += len(dues) - breached
        for department, hours in sorted(self._department_hours.items()):
            if hours:
                figures = row(("departments", department))
                figures["lift_hours_median"] = round(statistics.median(hours), 2)
                figures["lift_hours_p95"] = round(percentile(list(hours), 0.95) or 0.0, 2)
        return groups


Group = tuple[str, str]  # ("departments", id) or ("courts", code)
Place = tuple[str | None, str | None]  # an obligation's department and court


def _order(due: date | None, key: str) -> tuple[str, str]:
    """`sla_report.select`'s sort key."""
    return (due.isoformat() if due else "9999", key)


def _groups(o: Obligation) -> tuple[Group, ...]:
    """The summary's rows an obligation counts in (a department's first: its lift times)."""
    out: list[Group] = []
    if o.department:
        out.append(("departments", o.department))
    if o.court and o.kind != "department_lift":
        out.append(("courts", o.court))
    return tuple(out)
