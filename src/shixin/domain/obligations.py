"""Legal deadlines as obligations: who must act, from when, by which day, and whether they did.

Court obligations (exit after performance or after the listing term, correction review) follow
one entry's own events, so the entry fold keeps them. A department's lift obligations follow
event time across all the entries naming a subject: a lift is owed from the moment no entry
requires the department's measures any more (the end of a run of overlapping listing
intervals), whatever order the live pipeline learnt the entries in.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shixin.domain.build import build, evolve
from shixin.domain.calendar import CalendarError
from shixin.domain.deadlines import CST, Verdict, verdict

ObligationKind = Literal["court_exit", "correction_review", "department_lift"]


class Obligation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: ObligationKind
    entry_id: str | None = None
    department: str | None = None
    subject_id: str | None = None
    court: str | None = None
    opened_at: AwareDatetime
    # None only when the holiday calendar does not cover the period yet (a finding says so)
    due_on: date | None
    closed_at: AwareDatetime | None = None

    def judged(self, now: datetime) -> Verdict:
        if self.due_on is None:
            return "open"
        return verdict(self.due_on, self.closed_at, now)


def open_obligation(obligations: tuple[Obligation, ...], new: Obligation) -> tuple[Obligation, ...]:
    """Add `new` unless an obligation with its id exists already (the first trigger counts)."""
    if any(o.id == new.id for o in obligations):
        return obligations
    return (*obligations, new)


def close_obligations(
    obligations: tuple[Obligation, ...], at: datetime, kinds: Iterable[ObligationKind]
) -> tuple[Obligation, ...]:
    wanted = set(kinds)
    return tuple(
        evolve(o, closed_at=at) if o.closed_at is None and o.kind in wanted else o
        for o in obligations
    )


def end_of_day(day: date) -> datetime:
    """24:00 CST of `day` (as the first instant of the next day)."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=CST)


Interval = tuple[datetime, datetime | None]


def gap_starts(intervals: Iterable[Interval]) -> list[datetime]:
    """The moments a union of [start, end) intervals ends (end None: still running)."""
    ordered = sorted(intervals, key=lambda i: i[0])
    starts: list[datetime] = []
    current_end: datetime | None = None
    running = False
    for start, end in ordered:
        if running and current_end is not None and start > current_end:
            starts.append(current_end)
            running = False
        if not running:
            running, current_end = True, end
        elif current_end is not None:
            current_end = None if end is None else max(current_end, end)
    if running and current_end is not None:
        starts.append(current_end)
    return starts


def safe_due(compute: Callable[[], date]) -> date | None:
    """A due date, or None when the calendar does not cover it (never a guess)."""
    try:
        return compute()
    except CalendarError:
        return None


DeadlineEventType = Literal[
    "DeadlineOpened", "DeadlineMet", "DeadlineMissed", "DeadlineBreached", "DeadlineCancelled"
]
_SLA_NAMESPACE = uuid.UUID("0b7f8f2a-3c55-4f0e-9a53-7f6c1d2e4b10")


class DeadlineEvent(BaseModel):
    """What happened to one obligation (topic ``sla.events``, key: obligation id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    type: DeadlineEventType
    obligation: Obligation
    # when it happened: opened_at, closed_at, or the monitor's "now" for a breach
    at: AwareDatetime


def deadline_event(kind: DeadlineEventType, obligation: Obligation, at: datetime) -> DeadlineEvent:
    return build(
        DeadlineEvent,
        event_id=uuid.uuid5(_SLA_NAMESPACE, f"{obligation.id}/{kind}"),
        type=kind,
        obligation=obligation,
        at=at,
    )


def obligation_changes(
    before: tuple[Obligation, ...], after: tuple[Obligation, ...]
) -> list[DeadlineEvent]:
    """The deadline events between two states of the same holder's obligations."""
    if not after and not before:
        return []
    if len(before) == len(after) and all(b is a for b, a in zip(before, after, strict=True)):
        return []  # the very same obligations: nothing happened to any
    known = {o.id: o for o in before}
    still = {o.id for o in after}
    events = [
        deadline_event("DeadlineCancelled", o, o.opened_at) for o in before if o.id not in still
    ]
    for o in after:
        previous = known.get(o.id)
        if previous is None:
            events.append(deadline_event("DeadlineOpened", o, o.opened_at))
        if o.closed_at is not None and (previous is None or previous.closed_at is None):
            met = o.due_on is None or o.judged(o.closed_at) == "met"
            events.append(
                deadline_event("DeadlineMet" if met else "DeadlineMissed", o, o.closed_at)
            )
    return events


def breached(obligation: Obligation, now: datetime) -> bool:
    return obligation.closed_at is None and obligation.judged(now) == "breached"
