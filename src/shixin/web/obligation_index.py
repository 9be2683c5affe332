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
breaches without the event loop (and every check) waiting on one request. A judgement at a
`now` before some obligations were opened leaves those out one by one (`LATE_MOST`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from heapq import merge
from itertools import islice
from typing import Any, overload

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
        out = {v: self.fixed.get(v, 0) for v in VERDICTS}
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
        # the time, the tallies it is in, its kind, department and court, when it was opened)
        self._of: dict[str, tuple[OrderKey, date | None, str | None, Tallies, Where, float]] = {}
        # (opened at as a POSIX timestamp, id): those opened after a `now` asked are left out
        self._opened = SortedList()
        # ("all",), ("kind", k), ("department", d), ("court", c) for the listings and counts;
        # ("summary-court", c) for the SLA summary's courts (a department's lifts left out)
        self._tallies: dict[tuple[str, ...], _Counts | _Listing] = {}
        self._lift_hours: dict[str, float] = {}  # closed department lifts: hours to lift
        self._department_hours: dict[str, SortedList] = {}
        self._hours = SortedList()  # every department's
        self._dates: dict[date, str] = {}  # one ISO text per due date (shared by the keys)
        self._where: dict[Where, tuple[Tallies, Where]] = {}

    def put(self, key: str, obligation: Obligation | None) -> None:
        """The obligation now recorded under `key` (None: deleted)."""
        old = self._of.pop(key, None)
        if old is not None:
            order, due, fixed, tallies, where, opened = old
            for tally in tallies:
                self._tallies[tally].remove(order, due, fixed)
            self._opened.remove((opened, key))
            hours = self._lift_hours.pop(key, None)
            if hours is not None:
                self._department_hours[where[1] or ""].remove(hours)
                self._hours.remove(hours)
        if obligation is None:
            return
        o = obligation
        # closed, or never due: judged the same at any time
        fixed = o.judged(o.opened_at) if o.closed_at is not None or o.due_on is None else None
        order = (self._iso(o.due_on), key)
        found_where = self._where.get((o.kind, o.department, o.court))
        if found_where is None:  # one tuple per combination, not per obligation (memory)
            where = (o.kind, o.department, o.court)
            found_where = self._where[where] = (_tallies_of(o), where)
        tallies, where = found_where
        for tally in tallies:
            found = self._tallies.get(tally)
            if found is None:
                found = self._tallies[tally] = _Listing() if tally[0] in LISTINGS else _Counts()
            found.add(order, o.due_on, fixed)
        opened = o.opened_at.timestamp()
        self._of[key] = (order, o.due_on, fixed, tallies, where, opened)
        self._opened.add((opened, key))
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
        """Whether the index judges at `now`: at most `LATE_MOST` obligations were opened after
        it (they are left out one by one; with more, a full scan is cheaper to get right)."""
        late = len(self._opened) - self._opened.bisect_left((now.timestamp(), _AFTER))
        return bool(late <= LATE_MOST)

    def _late(self, now: datetime) -> list[str]:
        """The obligations opened after `now`, which a judgement at `now` leaves out."""
        start = self._opened.bisect_left((now.timestamp(), _AFTER))
        return [key for _, key in self._opened.islice(start)]

    def _verdict(self, key: str, today: date) -> str:
        _, due, fixed, *_ = self._of[key]
        if fixed is not None:
            return fixed
        return "breached" if due is not None and due < today else "open"

    def counts(self, now: datetime) -> Counter[tuple[str, str]]:
        """(kind, verdict) -> obligations, as judged at `now`, none zero (`answers_at(now)`
        must hold, as for everything below)."""
        today = local_date(now)
        out = Counter(
            {
                (tally[1], verdict): n
                for tally, found in self._tallies.items()
                if tally[0] == "kind"
                for verdict, n in found.counts(today).items()
            }
        )
        for key in self._late(now):
            out[(self._of[key][4][0], self._verdict(key, today))] -= 1
        return +out

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
        late = {
            key
            for key in self._late(now)
            if (status is None or self._verdict(key, today) == status)
            and (department is None or self._of[key][4][1] == department)
            and (court is None or self._of[key][4][2] == court)
        }
        if department is not None and court is not None:
            # a court's obligations (few) filtered by department, not a tally per pair
            runs = self._runs(("court", court), status, today)
            ids = [key for _, key in merge(*(_items(r) for r in runs))]
            ids = [k for k in ids if self._of[k][4][1] == department and k not in late]
            return len(ids), ids[offset : None if limit is None else offset + limit]
        if department is not None:
            runs = self._runs(("department", department), status, today)
        elif court is not None:
            runs = self._runs(("court", court), status, today)
        else:
            runs = self._runs(("all",), status, today)
        total = sum(hi - lo for _, lo, hi in runs) - len(late)
        if offset >= total:
            return total, []
        # where the `offset`-th of those not left out is among all of them
        at = offset
        for rank in sorted(_rank(runs, self._of[key][0]) for key in late):
            if rank > at:
                break
            at += 1
        starts = [_start(runs, run, at) for run in runs]
        merged = merge(
            *(_items((s, start, hi)) for (s, _, hi), start in zip(runs, starts, strict=True))
        )
        kept = (key for _, key in merged if key not in late)
        return total, list(islice(kept, limit))

    def _runs(self, tally: tuple[str, ...], status: str | None, today: date) -> list[Run]:
        found = self._tallies.get(tally)
        return found.runs(status, today) if isinstance(found, _Listing) else []

    def lift_times(self) -> dict[str, Any]:
        """`sla_report.hours_distribution` of the hours to lift of every department lift done."""
        return hours_distribution(self._hours)

    def summary(self, now: datetime) -> dict[str, Any]:
        """`sla_report.summary` of every obligation at `now`."""
        today = local_date(now)
        counts = {
            tally: found.counts(today)
            for tally, found in self._tallies.items()
            if tally[0] in GROUPS
        }
        late_hours: dict[str, list[float]] = {}
        for key in self._late(now):
            verdict = self._verdict(key, today)
            for tally in self._of[key][3]:
                if tally in counts:
                    counts[tally][verdict] -= 1
            if key in self._lift_hours:
                late_hours.setdefault(self._of[key][4][1] or "", []).append(self._lift_hours[key])
        groups: dict[str, dict[str, dict[str, Any]]] = {"departments": {}, "courts": {}}
        for (kind, name), found in sorted(counts.items()):
            if any(found.values()):
                row = {v: found[v] for v in ("met", "missed", "breached", "open")}
                groups[GROUPS[kind]][name] = row
        for department, hours in sorted(self._department_hours.items()):
            if department in late_hours:  # (rare: a lift opened after `now` and done)
                hours = _Without(hours, late_hours[department])
            if hours:
                figures = groups["departments"][department]
                figures["lift_hours_median"] = round(median_of_sorted(hours) or 0.0, 2)
                figures["lift_hours_p95"] = round(percentile_of_sorted(hours, 0.95) or 0.0, 2)
        return groups


Where = tuple[str, str | None, str | None]  # an obligation's kind, department and court
# a judgement at `now` leaves out up to this many obligations opened after it, one by one: a
# court's clock ahead, or an event dated in the future, must not turn every dashboard refresh and
# every `/metrics` scrape into a full scan of millions of obligations
LATE_MOST = 2_000
_AFTER = "\U0010ffff"  # sorts after any id: (t, _AFTER) comes after every (t, id)
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


class _Without(Sequence[float]):
    """Values in order, some of them left out (a few), without a copy of the rest."""

    def __init__(self, ordered: SortedList, left_out: list[float]) -> None:
        self._ordered = ordered
        # where each value left out is, in order (equal values at the same place: the reading
        # below skips one more for each)
        self._gaps = sorted(ordered.bisect_left(value) for value in left_out)

    def __len__(self) -> int:
        return len(self._ordered) - len(self._gaps)

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[float]: ...
    def __getitem__(self, index: int | slice) -> float | Sequence[float]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        at = index if index >= 0 else index + len(self)
        for gap in self._gaps:
            if gap > at:
                break
            at += 1
        value: float = self._ordered[at]
        return value
