"""What the dashboard and `/metrics` ask of every obligation, kept as obligations come.

The api's replica of the sla role's `obligations` holds about five obligations per subject (a
department lift per department binding a subject whose entry left the list, and the courts'
deadlines). Judging every one at every request (the dashboard refreshes every 2 s, Prometheus
scrapes `/metrics`) took 2.7 µs per obligation once parsed: about 13 s per request at a million
subjects, every check waiting. A closed obligation's verdict (and one without a due date) does
not change with time, so it is counted once; an open one with a due date is kept in due-date
order, and the breached ones at `now` are those due before today (`domain.deadlines.verdict`).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sortedcontainers import SortedList

from shixin.domain.deadlines import local_date
from shixin.domain.obligations import Obligation


class ObligationIndex:
    def __init__(self) -> None:
        # obligation id -> (kind, verdict if it no longer depends on the time, due date, opened)
        self._of: dict[str, tuple[str, str | None, date | None, datetime]] = {}
        self._fixed: Counter[tuple[str, str]] = Counter()
        self._due: dict[str, SortedList] = {}  # kind -> due dates of the open obligations
        self._by_due = SortedList()  # (due date, id) of the open obligations: select()'s order
        self._lift_hours: dict[str, float] = {}  # closed department lifts: hours to lift
        self._latest_opened: datetime | None = None

    def put(self, key: str, obligation: Obligation | None) -> None:
        """The obligation now recorded under `key` (None: deleted)."""
        old = self._of.pop(key, None)
        if old is not None:
            kind, fixed, due, _ = old
            if fixed is not None:
                self._fixed[(kind, fixed)] -= 1
            else:
                self._due[kind].remove(due)
                self._by_due.remove((due, key))
        self._lift_hours.pop(key, None)
        if obligation is None:
            return
        o = obligation
        if self._latest_opened is None or o.opened_at > self._latest_opened:
            self._latest_opened = o.opened_at
        if o.closed_at is not None or o.due_on is None:
            fixed = o.judged(o.opened_at)  # closed, or never due: the same at any time
            self._fixed[(o.kind, fixed)] += 1
            self._of[key] = (o.kind, fixed, o.due_on, o.opened_at)
            if o.kind == "department_lift" and o.closed_at is not None:
                self._lift_hours[key] = (o.closed_at - o.opened_at).total_seconds() / 3600
            return
        self._due.setdefault(o.kind, SortedList()).add(o.due_on)
        self._by_due.add((o.due_on, key))
        self._of[key] = (o.kind, None, o.due_on, o.opened_at)

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

    def first_breached(self, now: datetime, limit: int) -> list[str]:
        """The ids of the first `limit` breached obligations in `select`'s order (due date,
        then id; `answers_at(now)` must hold)."""
        today = local_date(now)
        out: list[str] = []
        for due, key in self._by_due:
            if due >= today or len(out) >= limit:
                break
            out.append(key)
        return out

    def lift_hours(self) -> list[float]:
        return list(self._lift_hours.values())
