"""The department fold: what one department must enforce against one subject, and its feedback.

A department computes its measures from the subject's whole status snapshot alone (DESIGN §4),
so a redelivered or replayed snapshot changes nothing and a late department catches up by reading
the topic from the start. Two sets are kept per subject: ``required`` (what the listed entries
demand now) and ``enforced`` (what the department has actually done). An automatic department
makes them equal at once and reports it; a manual one leaves a pending task until a person
confirms with a ``SanctionsApplied`` / ``SanctionsLifted`` of origin ``person``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from functools import lru_cache, partial
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shixin.domain.build import build, evolve
from shixin.domain.calendar import on_schedules_changed
from shixin.domain.catalog import Catalog, Department
from shixin.domain.events import SanctionEvent, SanctionsApplied, SanctionsLifted
from shixin.domain.obligations import Interval, Obligation, gap_starts, safe_due
from shixin.domain.policy import DeadlinePolicy, LiftRule
from shixin.domain.subjects import SubjectEntry, SubjectStatus

SanctionState = Literal["applied", "lifted", "retained", "pending_apply", "pending_lift"]
_FEEDBACK_NAMESPACE = uuid.UUID("6f1d3c2e-6b0a-4f43-9d8e-2f5a0c1b7e91")


class DepartmentSanction(BaseModel):
    """One department's sanctions against one subject (table ``sanctions-<department>``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    department: str
    subject_id: str
    kind: str
    state: SanctionState
    required: tuple[str, ...]
    enforced: tuple[str, ...]
    # entries behind `required`, or behind the measures last enforced once nothing is required
    entry_ids: tuple[str, ...]
    status_version: int
    updated_at: AwareDatetime
    # every measure any entry naming the subject has ever required of this department
    history: tuple[str, ...] = ()
    # kept after the entry left the list, with a legal basis and an end date (SanctionsRetained)
    retained: tuple[str, ...] = ()
    retained_until: date | None = None
    legal_basis: str | None = None
    # the lifts this department has owed (DESIGN §4 Deadlines: department lift)
    lifts: tuple[Obligation, ...] = ()

    @property
    def measures(self) -> tuple[str, ...]:
        """The measures the dump shows: those required, else those still or last enforced."""
        return self.required or self.enforced or self.history


def required_measures(
    catalog: Catalog, department: str, entries: Iterable[SubjectEntry], kind: str
) -> dict[str, set[str]]:
    """measure id -> the entries that require it, for one department."""
    out: dict[str, set[str]] = {}
    for entry in entries:
        for measure in catalog.measure_ids_binding(department, kind, entry.roles):
            out.setdefault(measure, set()).add(entry.entry_id)
    return out


def _state(required: set[str], enforced: set[str], retained: set[str]) -> SanctionState:
    if not required <= enforced:
        return "pending_apply"
    if not enforced <= required | retained:
        return "pending_lift"
    if required:
        return "applied"
    return "retained" if enforced else "lifted"


def _feedback_id(department: str, subject_id: str, version: int, kind: str) -> uuid.UUID:
    return uuid.uuid5(_FEEDBACK_NAMESPACE, f"{department}/{subject_id}/{version}/{kind}")


@lru_cache(maxsize=65_536)
def _utc_stamp(moment: datetime) -> str:
    """A lift's moment in its id (every department binding the subject names the same)."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@lru_cache(maxsize=65_536)
def _lift_due(rule: LiftRule, start: datetime, lift_days: int) -> date | None:
    """Every department binding a subject computes the same due date from the same status:
    remember it (the holiday calendar is the costliest part of the department fold)."""
    return safe_due(partial(rule.due, start, lift_days))


on_schedules_changed(_lift_due.cache_clear)  # it remembers "not covered" (None) too


def owed_lifts(
    catalog: Catalog,
    department: Department,
    status: SubjectStatus,
    policy: DeadlinePolicy,
    known: Mapping[str, Obligation] | None = None,
) -> list[Obligation]:
    """The lifts owed in event time: one from each moment no entry requires this department's
    measures any more (the end of a run of overlapping requiring intervals).

    `known`: lifts recorded before, by id; one still owed is returned as recorded (what
    `_merge_lifts` keeps anyway), without building it again."""
    requiring = [
        e
        for e in status.entries
        if e.listed_at is not None
        and catalog.measure_ids_binding(department.id, status.kind, e.roles)
    ]
    return _owed_lifts(catalog, department, status, policy, requiring, known)


def _owed_lifts(
    catalog: Catalog,
    department: Department,
    status: SubjectStatus,
    policy: DeadlinePolicy,
    requiring: list[SubjectEntry],
    known: Mapping[str, Obligation] | None,
) -> list[Obligation]:
    """`owed_lifts`, given the entries that were listed and name the subject in a role one of
    the department's measures binds."""
    if not requiring or all(e.stopped_at is None for e in requiring):
        return []  # no run of requiring intervals has ended
    owed = []
    for start in _gap_starts(tuple((e.listed_at, e.stopped_at) for e in requiring)):
        lift_id = f"department_lift/{department.id}/{status.subject_id}/{_utc_stamp(start)}"
        if known is not None and lift_id in known:
            owed.append(known[lift_id])
            continue
        cause = max((e for e in requiring if e.stopped_at == start), key=lambda e: e.entry_id)
        # built, not validated: every value is already of its field's type
        owed.append(
            build(
                Obligation,
                id=lift_id,
                kind="department_lift",
                entry_id=cause.entry_id,
                court=cause.court_code,
                department=department.id,
                subject_id=status.subject_id,
                opened_at=start,
                due_on=_lift_due(policy.department_lift, start, catalog.lift_days(department.id)),
            )
        )
    return owed


@lru_cache(maxsize=4_096)
def _gap_starts(intervals: tuple[Interval, ...]) -> list[datetime]:
    """`gap_starts`, remembered: every department binding the same entries of a subject asks
    with the same intervals (the same status folded by each department in turn)."""
    return gap_starts(intervals)


def _merge_lifts(
    known: Mapping[str, Obligation],
    owed: list[Obligation],
    close_at: datetime | None,
    automatic: bool,
    enforcing: bool,
) -> tuple[Obligation, ...]:
    """Keep what was recorded (`known`, by id: closing times) for lifts still owed; drop ones no
    longer owed.

    An automatic department lifts at once (at `close_at`, or when the lift was owed: the event
    clock). A manual department that enforces nothing has nothing to lift, so owes nothing new.
    """
    if not owed:
        return ()
    merged = []
    for lift in owed:
        if lift.id not in known and not (automatic or enforcing):
            continue
        kept = known.get(lift.id, lift)
        if kept.closed_at is None and automatic:
            kept = evolve(kept, closed_at=close_at or kept.opened_at)
        merged.append(kept)
    return tuple(merged)


def on_status(
    current: DepartmentSanction | None,
    status: SubjectStatus,
    catalog: Catalog,
    department: Department,
    at: datetime | None,
    policy: DeadlinePolicy,
) -> tuple[DepartmentSanction | None, list[SanctionEvent]]:
    """Fold a subject status snapshot into this department's state.

    Returns the new state (None: nothing to record) and the feedback to publish. `at` is when the
    department acts: the wall clock live; None in run and replay (the event clock), where an
    automatic department acts at the causing event's time and lifts the moment a lift is owed.
    """
    if current is not None and status.version <= current.status_version:
        return current, []  # stale or redelivered snapshot
    # in one pass over the entries: the measures required now (by listed entries naming the
    # subject) and ever, the entries behind each, and the entries whose listing required any
    required: set[str] = set()
    required_by: set[str] = set()
    hist: set[str] = set()
    hist_by: set[str] = set()
    requiring: list[SubjectEntry] = []
    for entry in status.entries:
        ids = catalog.measure_ids_binding(department.id, status.kind, entry.roles)
        if not ids:
            continue
        hist.update(ids)
        hist_by.add(entry.entry_id)
        if entry.listed and entry.named:
            required.update(ids)
            required_by.add(entry.entry_id)
        if entry.listed_at is not None:
            requiring.append(entry)
    if current is None and not hist:
        return None, []  # none of this department's duty, now or ever
    automatic = department.execution == "automatic"
    known = {o.id: o for o in current.lifts} if current and current.lifts else {}
    lifts = _merge_lifts(
        known,
        _owed_lifts(catalog, department, status, policy, requiring, known),
        at,
        automatic=automatic,
        enforcing=bool(current and current.enforced),
    )
    at = at or status.occurred_at
    enforced_before = set(current.enforced) if current else set()
    feedback: list[SanctionEvent] = []
    entry_ids = tuple(sorted(required_by))
    retained = set(current.retained) if current else set()
    measures = tuple(sorted(required))
    # the feedback and the row are built, not validated: every value is already of its type
    if automatic:
        enforced = required | (retained & enforced_before)
        applied_before = (
            tuple(current.enforced) if current else (),
            tuple(current.entry_ids) if current and current.required else (),
        )
        if required and (measures, entry_ids) != applied_before:
            feedback.append(
                build(
                    SanctionsApplied,
                    event_id=_feedback_id(department.id, status.subject_id, status.version, "a"),
                    department=department.id,
                    subject_id=status.subject_id,
                    measures=measures,
                    entry_ids=entry_ids,
                    at=at,
                )
            )
        removed = enforced_before - enforced
        if removed:
            feedback.append(
                build(
                    SanctionsLifted,
                    event_id=_feedback_id(department.id, status.subject_id, status.version, "l"),
                    department=department.id,
                    subject_id=status.subject_id,
                    measures=tuple(sorted(removed)),
                    entry_ids=tuple(sorted(hist_by)),
                    at=at,
                )
            )
    else:
        enforced = enforced_before
    if not entry_ids:
        entry_ids = tuple(sorted(hist_by))
    new = build(
        DepartmentSanction,
        department=department.id,
        subject_id=status.subject_id,
        kind=status.kind,
        state=_state(required, enforced, retained),
        required=measures,
        enforced=tuple(sorted(enforced)),
        entry_ids=entry_ids,
        status_version=status.version,
        updated_at=at,
        history=tuple(sorted(hist)),
        retained=current.retained if current else (),
        retained_until=current.retained_until if current else None,
        legal_basis=current.legal_basis if current else None,
        lifts=lifts,
    )
    return new, feedback


def on_confirmation(
    current: DepartmentSanction | None, event: SanctionEvent
) -> DepartmentSanction | None:
    """A person confirmed a manual department's action: record what is now enforced."""
    if current is None:
        return None
    enforced = set(current.enforced)
    retained = set(current.retained)
    update: dict[str, object] = {}
    if isinstance(event, SanctionsApplied):
        enforced |= set(event.measures or current.required)
    elif isinstance(event, SanctionsLifted):
        lifted = set(event.measures or current.enforced)
        enforced -= lifted
        retained -= lifted
        if not retained:
            update = {"retained_until": None, "legal_basis": None}
        if not enforced - set(current.required):
            update["lifts"] = tuple(
                evolve(o, closed_at=event.at) if o.closed_at is None else o for o in current.lifts
            )
    else:  # SanctionsRetained: keep what is enforced, with a legal basis and an end date
        kept = set(event.measures or enforced) & enforced
        if not kept:
            return None
        retained |= kept
        update = {
            "retained_until": event.until,
            "legal_basis": event.legal_basis,
            # keeping a measure with a legal basis is the department's lawful answer to the lift
            "lifts": tuple(
                evolve(o, closed_at=event.at) if o.closed_at is None else o for o in current.lifts
            ),
        }
    return evolve(
        current,
        **{
            **update,
            "enforced": tuple(sorted(enforced)),
            "retained": tuple(sorted(retained)),
            "state": _state(set(current.required), enforced, retained),
            "updated_at": event.at,
        },
    )


def retention_ended(row: DepartmentSanction, today: date) -> bool:
    """A retention ends at its date: from the next day on, the measure must be lifted."""
    return bool(row.retained) and row.retained_until is not None and today > row.retained_until


def retention_end(row: DepartmentSanction, at: datetime) -> SanctionsLifted:
    """The lift a department's agent makes when a retention has ended."""
    return SanctionsLifted(
        event_id=uuid.uuid5(
            _FEEDBACK_NAMESPACE, f"{row.department}/{row.subject_id}/retention/{row.retained_until}"
        ),
        department=row.department,
        subject_id=row.subject_id,
        measures=row.retained,
        entry_ids=row.entry_ids,
        at=at,
        origin="agent",
    )
