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
) -> list[EntryFacet]:
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
    return entry_facets(after, str(event.event_id))


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
) -> list[SanctionEvent]:
    """Fold a subject status into one department's table; return its feedback.

    `at`: when the department acts (wall clock), or None for the event clock."""
    raw = sanctions.get(status.subject_id)
    before = DepartmentSanction.model_validate(raw) if raw is not None else None
    after, feedback = on_status(before, status, catalog, department, at, policy)
    if after is not None and after is not before:
        sanctions[status.subject_id] = after.model_dump(mode="json")
    return feedback


def confirmation_step(sanctions: Store, event: SanctionEvent) -> bool:
    """Record a person's confirmation of a manual department's action; False if unknown."""
    raw = sanctions.get(event.subject_id)
    if raw is None:
        return False
    after = on_confirmation(DepartmentSanction.model_validate(raw), event)
    if after is None:
        return False
    sanctions[event.subject_id] = after.model_dump(mode="json")
    return True
