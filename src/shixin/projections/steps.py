"""One step of each projection over a key-value store: the glue the live agents and the offline
replay share, so both call the very same core functions in the very same way.

A store is any ``MutableMapping[str, dict]``: a Faust table live, a plain dict in replay. Values
are the models' JSON form, so both paths also share the serialization round trip.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

from shixin.domain.catalog import Catalog, Department
from shixin.domain.entries import Entry, apply_event
from shixin.domain.events import CourtEvent, SanctionEvent
from shixin.domain.obligations import DeadlineEvent, Obligation, obligation_changes
from shixin.domain.policy import DeadlinePolicy
from shixin.domain.sanctions import DepartmentSanction, on_confirmation, on_status
from shixin.domain.subjects import (
    EntryFacet,
    SubjectState,
    SubjectStatus,
    apply_facet,
    entry_facets,
    status_of,
)

Store = MutableMapping[str, Any]


def intake_step(
    entries: Store, event: CourtEvent, position: str, policy: DeadlinePolicy
) -> tuple[list[EntryFacet], list[DeadlineEvent]]:
    """Apply a court event to its entry; return the facets to send to the subjects.

    Raises LifecycleError (a dead letter). A redelivered message re-sends the entry's current
    facets: if a crash lost them after the table write, this is how they still arrive; the
    subject fold ignores them otherwise.
    """
    raw = entries.get(event.entry_id)
    before = Entry.model_validate(raw) if raw is not None else None
    after = apply_event(before, event, position, policy)
    if after is not before:
        entries[event.entry_id] = after.model_dump(mode="json")
    changes = obligation_changes(before.obligations if before else (), after.obligations)
    return entry_facets(after, str(event.event_id)), changes


def subject_step(subjects: Store, facet: EntryFacet) -> SubjectStatus | None:
    """Fold a facet into its subject; return the new status snapshot if anything changed."""
    raw = subjects.get(facet.subject_id)
    before = SubjectState.model_validate(raw) if raw is not None else None
    after = apply_facet(before, facet)
    if after is None:
        return None
    subjects[facet.subject_id] = after.model_dump(mode="json")
    return status_of(after, facet)


def department_step(
    sanctions: Store,
    status: SubjectStatus,
    catalog: Catalog,
    department: Department,
    at: datetime | None,
    policy: DeadlinePolicy,
) -> tuple[list[SanctionEvent], list[DeadlineEvent]]:
    """Fold a subject status into one department's table; return its feedback.

    `at`: when the department acts (wall clock), or None for the event clock."""
    raw = sanctions.get(status.subject_id)
    before = DepartmentSanction.model_validate(raw) if raw is not None else None
    after, feedback = on_status(before, status, catalog, department, at, policy)
    if after is None or after is before:
        return feedback, []
    sanctions[status.subject_id] = after.model_dump(mode="json")
    return feedback, obligation_changes(before.lifts if before else (), after.lifts)


def confirmation_step(sanctions: Store, event: SanctionEvent) -> list[DeadlineEvent] | None:
    """Record a person's confirmation of a manual department's action (None: no such task)."""
    raw = sanctions.get(event.subject_id)
    if raw is None:
        return None
    before = DepartmentSanction.model_validate(raw)
    after = on_confirmation(before, event)
    if after is None:
        return None
    sanctions[event.subject_id] = after.model_dump(mode="json")
    return obligation_changes(before.lifts, after.lifts)


def sla_step(obligations: Store, event: DeadlineEvent) -> Obligation | None:
    """Fold a deadline event into the monitor's table; return the obligation if it changed.

    Events may arrive in any order (their holders are different apps): the record keeps the
    earliest closing time known and remembers whether a breach was reported."""
    raw = obligations.get(event.obligation.id)
    if event.type == "DeadlineCancelled":
        if raw is not None:
            del obligations[event.obligation.id]
        return None
    if event.type == "DeadlineBreached" and raw is None:
        # the monitor's own report, overtaken by a cancellation: the obligation is gone
        return None
    record = dict(raw) if raw is not None else {"breach_reported": False}
    known = Obligation.model_validate(record["obligation"]) if raw is not None else None
    new = event.obligation
    if (
        known is not None
        and known.closed_at is not None
        and (new.closed_at is None or known.closed_at <= new.closed_at)
    ):
        new = new.model_copy(update={"closed_at": known.closed_at})
    changed = known != new
    record["obligation"] = new.model_dump(mode="json")
    if event.type == "DeadlineBreached" and not record["breach_reported"]:
        record["breach_reported"] = True
        changed = True
    if changed:
        obligations[new.id] = record
    return new if changed else None
