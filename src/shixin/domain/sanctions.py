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
from collections.abc import Iterable
from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shixin.domain.catalog import Catalog, Department
from shixin.domain.events import SanctionEvent, SanctionsApplied, SanctionsLifted
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

    @property
    def measures(self) -> tuple[str, ...]:
        """The measures the dump shows: those required, else those still or last enforced."""
        return self.required or self.enforced or self.history


def required_measures(
    catalog: Catalog, department: str, entries: Iterable[SubjectEntry], kind: str
) -> dict[str, set[str]]:
    """measure id -> the entries that require it, for one department."""
    measures = catalog.measures_of(department)
    out: dict[str, set[str]] = {}
    for entry in entries:
        for role in entry.roles:
            for measure in measures:
                if measure.binds(kind, role):  # type: ignore[arg-type]
                    out.setdefault(measure.id, set()).add(entry.entry_id)
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


def on_status(
    current: DepartmentSanction | None,
    status: SubjectStatus,
    catalog: Catalog,
    department: Department,
    at: datetime,
) -> tuple[DepartmentSanction | None, list[SanctionEvent]]:
    """Fold a subject status snapshot into this department's state.

    Returns the new state (None: nothing to record) and the feedback to publish. `at` is when the
    department acts: the wall clock live, the causing event's time in run and replay.
    """
    if current is not None and status.version <= current.status_version:
        return current, []  # stale or redelivered snapshot
    active = [e for e in status.entries if e.active]
    req = required_measures(catalog, department.id, active, status.kind)
    hist = required_measures(catalog, department.id, status.entries, status.kind)
    if current is None and not hist:
        return None, []  # none of this department's duty, now or ever
    required = set(req)
    enforced_before = set(current.enforced) if current else set()
    feedback: list[SanctionEvent] = []
    entry_ids = sorted({e for ids in req.values() for e in ids})
    retained = set(current.retained) if current else set()
    if department.execution == "automatic":
        enforced = required | (retained & enforced_before)
        applied_before = (
            tuple(current.enforced) if current else (),
            tuple(current.entry_ids) if current and current.required else (),
        )
        if required and (tuple(sorted(required)), tuple(entry_ids)) != applied_before:
            feedback.append(
                SanctionsApplied(
                    event_id=_feedback_id(department.id, status.subject_id, status.version, "a"),
                    department=department.id,
                    subject_id=status.subject_id,
                    measures=tuple(sorted(required)),
                    entry_ids=tuple(entry_ids),
                    at=at,
                )
            )
        removed = enforced_before - enforced
        if removed:
            feedback.append(
                SanctionsLifted(
                    event_id=_feedback_id(department.id, status.subject_id, status.version, "l"),
                    department=department.id,
                    subject_id=status.subject_id,
                    measures=tuple(sorted(removed)),
                    entry_ids=tuple(sorted({e for ids in hist.values() for e in ids})),
                    at=at,
                )
            )
    else:
        enforced = enforced_before
    if not entry_ids:
        entry_ids = sorted({e for ids in hist.values() for e in ids})
    new = DepartmentSanction(
        department=department.id,
        subject_id=status.subject_id,
        kind=status.kind,
        state=_state(required, enforced, retained),
        required=tuple(sorted(required)),
        enforced=tuple(sorted(enforced)),
        entry_ids=tuple(entry_ids),
        status_version=status.version,
        updated_at=at,
        history=tuple(sorted(hist)),
        retained=current.retained if current else (),
        retained_until=current.retained_until if current else None,
        legal_basis=current.legal_basis if current else None,
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
    else:  # SanctionsRetained: keep what is enforced, with a legal basis and an end date
        kept = set(event.measures or enforced) & enforced
        if not kept:
            return None
        retained |= kept
        update = {"retained_until": event.until, "legal_basis": event.legal_basis}
    return current.model_copy(
        update={
            **update,
            "enforced": tuple(sorted(enforced)),
            "retained": tuple(sorted(retained)),
            "state": _state(set(current.required), enforced, retained),
            "updated_at": event.at,
        }
    )
