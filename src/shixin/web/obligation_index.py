"""What the dashboard, `/metrics`, `/v1/sla`, `/v1/obligations` and `/v1/breaches` ask of every
obligation, kept as obligations come.

The api's replica of the sla role's `obligations` holds about five obligations per subject (a
department lift per department binding a subject whose entry left the list, and the courts'
deadlines). Judging every one at every request (the dashboard refreshes every 2 s, Prometheus
scrapes `/metrics`) took 2.7 µs per obligation once parsed: about 13 s per request at a million
subjects, every check waiting. A closed obligation's verdict (and one without a due date) does
not change with time, so it is filed once under that verdict; an open one with a due date is
kept in due-date order, and the breached ones at `now` are those due before today
(`domain.deadlines.verdict`). Every list is in `sla_report.select`'s order, so a page of any
listing is found by rank in O(log² n), whatever its depth: an auditor can page through a million
breaches without the event loop (and every check) waiting on one request.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from heapq import merge
from itertools import islice
from typing import Any

from sortedcontainers import SortedList

from shixin.domain.deadlines import local_date
from shixin.domain.obligations import Obligation
from shixin.projections.sla_report import (
    hours_distribution,
    median_of_sorted,
    percentile_of_sorted,
)

OrderKey = tuple[str, str]  # (due date's ISO text, or "9999" without one; id): select()'s order
Run = tuple[SortedList, int, int]  # a slice [lo, hi) of a list of order keys
VERDICTS = ("open", "met", "missed", "breached")
_NEVER_DUE = "9999"


class _Counts:
    """How many obligations of one group (a kind, a court in the SLA summary) are judged so."""

    __slots__ = ("due", "fixed")

    def __init__(self) -> None:
        self.due = SortedList()  # due dates of the open obligations with one
        self.fixed: Counter[str] = Counter()  # verdict -> those judged so at any time

    def add(self, order: OrderKey, due: date | None, fixed: str | None) -> None:
        if fixed is None:
            self.due.add(due)
        else:
            self.fixed[fixed] += 1

    def remove(self, order: OrderKey, due: date | None, fixed: str | None) -> None:
        if fixed is None:
            self.due.remove(due)
        else:
            self.fixed[fixed] -= 1

    def counts(self, today: date) -> dict[str, int]:
        """verdict -> obligations judged so on `today` (zero counts too)."""
        breached = self.due.bisect_left(today)  # due before today: the deadline has passed
        out = {v: self.fixed[v] for v in VERDICTS}
        out["breached"] += breached
        out["open"] += len(self.due) - breached
        return out


class _Listing:
    """The obligations of one listing (all, a department's, a court's) in `select`'s order."""

    __slots__ = ("due", "fixed")

    def __init__(self) -> None:
        self.due = SortedList()  # open obligations with a due date
        self.fixed: dict[str, SortedList] = {}  # verdict -> those judged so at any time

    def add(self, order: OrderKey, due: date | None, fixed: str | None) -> None:
        if fixed is None:
            self.due.add(order)
        else:
            self.fixed.setdefault(fixed, SortedList()).add(order)

    def remove(self, order: OrderKey, due: date | None, fixed: str | None) -> None:
        (self.due if fixed is None else self.fixed[fixed]).remove(order)

    def counts(self, today: date) -> dict[str, int]:
        breached = self.due.bisect_left(_order_today(today))
        out = {v: len(self.fixed[v]) if v in self.fixed else 0 for v in VERDICTS}
        out["breached"] += breached
        out["open"] += len(self.due) - breached
        return out

    def runs(self, status: str | None, today: date) -> list[Run]:
        """The lists holding the obligations judged `status` on `today` (None: all)."""
        breached = self.due.bisect_left(_order_today(today))
        if status == "breached":
            runs = [(self.due, 0, breached)]
        elif status == "open":
            runs = [(self.due, breached, len(self.due)), _whole(self.fixed.get("open"))]
        elif status is not None:
            runs = [_whole(self.fixed.get(status))]
        else:
            runs = [(self.due, 0, len(self.due)), *(_whole(f) for f in self.fixed.values())]
        return [run for run in runs if run[2] > run[1]]


class ObligationIndex:
    def __init__(self) -> None:
        # obligation id -> (its order key, its due date, its verdict if it no longer depends on
        # the time, the tallies it is in, its department and court)
        self._of: dict[str, tuple[OrderKey, date | None, str | None, Tallies, Place]] = {}
        # ("all",), ("kind", k), ("department", d), ("court", c) for the listings and counts;
        # ("summary-court", c) for the SLA summary's courts (a department's lifts left out)
        self._tallies: dict[tuple[str, ...], _Counts | _Listing] = {}
        self._lift_hours: dict[str, float] = {}  # closed department lifts: hours to lift
        self._department_hours: dict[str, SortedList] = {}
        self._hours = SortedList()  # every department's
        self._dates: dict[date, str] = {}  # one ISO text per due date (shared by the keys)
        self._where: dict[tuple[str, str | None, str | None], tuple[Tallies, Place]] = {}
        self._latest_opened: datetime | None = None

    def put(self, key: str, obligation: Obligation | None) -> None:
        """The obligation now recorded under `key` (None: deleted)."""
        old = self._of.pop(key, None)
        if old is not None:
            order, due, fixed, tallies, place = old
            for tally in tallies:
                self._tallies[tally].remove(order, due, fixed)
            hours = self._lift_hours.pop(key, None)
            if hours is not None:
                self._department_hours[place[0] or ""].remove(hours)
                self._hours.remove(hours)
        if obligation is None:
            return
        o = obligation
        if self._latest_opened is None or o.opened_at > self._latest_opened:
            self._latest_opened = o.opened_at
        # closed, or never due: judged the same at any time
        fixed = o.judged(o.opened_at) if o.closed_at is not None or o.due_on is None else None
        order = (self._iso(o.due_on), key)
        where = (o.kind, o.department, o.court)
        found_where = self._where.get(where)
        if found_where is None:  # one tuple per combination, not per obligation (memory)
            found_where = self._where[where] = (_tallies_of(o), (o.department, o.court))
        tallies, place = found_where
        for tally in tallies:
            found = self._tallies.get(tally)
            if found is None:
                found = self._tallies[tally] = _Listing() if tally[0] in LISTINGS else _Counts()
            found.add(order, o.due_on, fixed)
        self._of[key] = (order, o.due_on, fixed, tallies, place)
        if o.kind == "department_lift" and o.closed_at is not None and o.department:
            hours = (o.closed_at - o.opened_at).total_seconds() / 3600
            self._lift_hours[key] = hours
            self._department_hours.setdefault(o.department, SortedList()).add(hours)
            self._hours.add(hours)

    def _iso(self, due: date | None) -> str:
        if due is None:
            return _NEVER_DUE
        text = self._dates.get(due)
        if text is None:
            text = self._dates[due] = due.isoformat()
        return text

    def answers_at(self, now: datetime) -> bool:
        """Whether the index can judge at `now`: every obligation was opened by then (else an
        obligation opened later must be left out, and only a full scan knows which)."""
        return self._latest_opened is None or self._latest_opened <= now

    def counts(self, now: datetime) -> Counter[tuple[str, str]]:
        """(kind, verdict) -> obligations, as judged at `now`, none zero (`answers_at(now)`
        must hold, as for everything below)."""
        today = local_date(now)
        return Counter(
            {
                (tally[1], verdict): n
                for tally, found in self._tallies.items()
                if tally[0] == "kind"
                for verdict, n in found.counts(today).items()
                if n > 0
            }
        )

    def page(
        self,
        now: datetime,
        status: str | None = None,
        department: str | None = None,
        court: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[int, list[str]]:
        """How many obligations `sla_report.select` gives (judged `status` at `now`, of a
        department, of a court), and the ids of `limit` of them from `offset`, in its order."""
        today = local_date(now)
        if department is not None and court is not None:
            # a court's obligations (few) filtered by department, not a tally per pair
            runs = self._runs(("court", court), status, today)
            ids = [key for _, key in merge(*(_items(r) for r in runs))]
            ids = [key for key in ids if self._of[key][4][0] == department]
            return len(ids), ids[offset : None if limit is None else offset + limit]
        if department is not None:
            runs = self._runs(("department", department), status, today)
        elif court is not None:
            runs = self._runs(("court", court), status, today)
        else:
            runs = self._runs(("all",), status, today)
        total = sum(hi - lo for _, lo, hi in runs)
        if offset >= total:
            return total, []
        starts = [_start(runs, run, offset) for run in runs]
        merged = merge(
            *(_items((s, start, hi)) for (s, _, hi), start in zip(runs, starts, strict=True))
        )
        return total, [key for _, key in islice(merged, limit)]

    def _runs(self, tally: tuple[str, ...], status: str | None, today: date) -> list[Run]:
        found = self._tallies.get(tally)
        return found.runs(status, today) if isinstance(found, _Listing) else []

    def lift_times(self) -> dict[str, Any]:
        """`sla_report.hours_distribution` of the hours to lift of every department lift done."""
        return hours_distribution(self._hours)

    def summary(self, now: datetime) -> dict[str, Any]:
        """`sla_report.summary` of every obligation at `now`."""
        today = local_date(now)
        groups: dict[str, dict[str, dict[str, Any]]] = {"departments": {}, "courts": {}}
        for (kind, name), tally in sorted(
            (t, found) for t, found in self._tallies.items() if t[0] in GROUPS
        ):
            counts = tally.counts(today)
            if any(counts.values()):
                row = {v: counts[v] for v in ("met", "missed", "breached", "open")}
                groups[GROUPS[kind]][name] = row
        for department, hours in sorted(self._department_hours.items()):
            if hours:
                figures = groups["departments"][department]
                figures["lift_hours_median"] = round(median_of_sorted(hours) or 0.0, 2)
                figures["lift_hours_p95"] = round(percentile_of_sorted(hours, 0.95) or 0.0, 2)
        return groups


Place = tuple[str | None, str | None]  # an obligation's department and court
Tallies = tuple[tuple[str, ...], ...]
LISTINGS = ("all", "department", "court")
# the SLA summary's groups (`sla_report.summary`): a court's row leaves its departments' lifts out
GROUPS = {"department": "departments", "summary-court": "courts"}


def _tallies_of(o: Obligation) -> Tallies:
    out: list[tuple[str, ...]] = [("all",), ("kind", o.kind)]
    if o.department:
        out.append(("department", o.department))
    if o.court:
        out.append(("court", o.court))
        if o.kind != "department_lift":
            out.append(("summary-court", o.court))
    return tuple(out)


def _order_today(today: date) -> OrderKey:
    """Order keys below this one are due before `today`."""
    return (today.isoformat(), "")


def _whole(found: SortedList | None) -> Run:
    return (found, 0, len(found)) if found is not None else (SortedList(), 0, 0)


def _items(run: Run) -> Iterable[OrderKey]:
    found, lo, hi = run
    items: Iterable[OrderKey] = found.islice(lo, hi)
    return items


def _rank(runs: list[Run], order: OrderKey) -> int:
    """How many order keys of `runs` come before `order`."""
    return sum(min(max(found.bisect_left(order), lo), hi) - lo for found, lo, hi in runs)


def _start(runs: list[Run], run: Run, offset: int) -> int:
    """Where `run`'s part of the merged listing from `offset` starts: its first key with as
    many keys of all runs before it as `offset` or more (keys are unique across runs)."""
    found, lo, hi = run
    while lo < hi:
        middle = (lo + hi) // 2
        if _rank(runs, found[middle]) < offset:
            lo = middle + 1
        else:
            hi = middle
    return lo
