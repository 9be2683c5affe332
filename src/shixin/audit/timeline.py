"""A subject's timeline: every event that names one subject, recorded while a replay runs.

Plug an instance in as `Replay.observer`. It sees court events (with the reason when one was
refused) and every department action, and keeps only what concerns its subject: the events of
the entries that name it (from the listing or correction that first names it on), a risk warning
served before such a listing, and the departments' actions against the subject. Memory stays
small on a full history: the only events held for entries that may never name the subject are
warnings of entries not listed yet.
"""

from __future__ import annotations

from typing import Any

from shixin.domain.events import (
    AnyEvent,
    CorrectionRejected,
    CorrectionRequested,
    DebtorListed,
    ListingCorrected,
    ListingRevoked,
    ListingShielded,
    ObligationPerformed,
    RelatedPerson,
    RiskWarningIssued,
    SanctionsApplied,
    SanctionsLifted,
    SanctionsRetained,
    event_time,
)
from shixin.projections.dumps import cst


def _roles(subject_id: str, debtor_id: str | None, related: tuple[RelatedPerson, ...]) -> set[str]:
    roles = {"debtor"} if debtor_id == subject_id else set()
    return roles | {p.role for p in related if p.id == subject_id}


class SubjectTimeline:
    """Replay observer: the rows of one subject's timeline (``rows``, in arrival order)."""

    def __init__(self, subject_id: str) -> None:
        self.subject_id = subject_id
        self.rows: list[dict[str, Any]] = []
        # entries naming the subject now: entry id -> (named as debtor, named as related person)
        self._naming: dict[str, tuple[bool, bool]] = {}
        # rows of entries warned but not listed yet: kept until the listing says whom it names
        self._pending: dict[str, list[dict[str, Any]]] = {}

    def __call__(self, event: AnyEvent, refused: str | None) -> None:
        if isinstance(event, SanctionsApplied | SanctionsLifted | SanctionsRetained):
            if event.subject_id == self.subject_id:
                self.rows.append(_row(event, refused, self.subject_id))
            return
        entry_id = event.entry_id
        row = _row(event, refused, self.subject_id)
        before = self._naming.get(entry_id)
        after = before if refused else self._naming_after(event, before)
        if isinstance(event, DebtorListed) and not refused:
            waiting = self._pending.pop(entry_id, [])
            if after:
                self.rows += waiting
        elif entry_id in self._pending or (isinstance(event, RiskWarningIssued) and not before):
            self._pending.setdefault(entry_id, []).append(row)
            return
        if before or after or self.subject_id in _named_by(event):
            self.rows.append(row)
        if after:
            self._naming[entry_id] = after
        else:
            self._naming.pop(entry_id, None)

    def _naming_after(
        self, event: AnyEvent, before: tuple[bool, bool] | None
    ) -> tuple[bool, bool] | None:
        """Whether the entry names the subject after `event` (as debtor, as related person)."""
        if isinstance(event, DebtorListed):
            roles = _roles(self.subject_id, event.subject.id, event.related_persons)
        elif isinstance(event, ListingCorrected):
            changes = event.changes
            debtor = (
                changes.subject.id == self.subject_id
                if changes.subject is not None
                else bool(before and before[0])
            )
            related = (
                any(p.id == self.subject_id for p in changes.related_persons)
                if changes.related_persons is not None
                else bool(before and before[1])
            )
            roles = ({"debtor"} if debtor else set()) | ({"related"} if related else set())
        else:
            return before
        debtor = "debtor" in roles
        named = (debtor, bool(roles - {"debtor"}))
        return named if any(named) else None


def _named_by(event: AnyEvent) -> set[str]:
    """The subject ids an event itself names (a listing, or a correction's new names)."""
    if isinstance(event, DebtorListed):
        return {event.subject.id} | {p.id for p in event.related_persons if p.id}
    if isinstance(event, ListingCorrected):
        changes = event.changes
        ids = {changes.subject.id} if changes.subject else set()
        return ids | {p.id for p in changes.related_persons or () if p.id}
    return set()


def _row(event: AnyEvent, refused: str | None, subject_id: str) -> dict[str, Any]:
    department = getattr(event, "department", None)
    return {
        "at": cst(event_time(event)),
        "source": "department" if department else "court",
        "type": event.type,
        "event_id": str(event.event_id),
        "entry_id": getattr(event, "entry_id", None),
        "department": department,
        "detail": describe(event, subject_id),
        "refused": refused,
    }


def describe(event: AnyEvent, subject_id: str) -> str:
    """One line a person can read about what the event says."""
    if isinstance(event, RiskWarningIssued):
        return f"risk warning served {cst(event.served_at)}; case {event.case_no}"
    if isinstance(event, DebtorListed):
        roles = sorted(_roles(subject_id, event.subject.id, event.related_persons))
        named = ", ".join(roles) or "not named"
        term = event.term_ends_on.isoformat() if event.term_ends_on else "none"
        return (
            f"listed ({named}); debtor {event.subject.name}; case {event.case_no}; "
            f"grounds {', '.join(map(str, event.grounds))}; term ends {term}"
        )
    if isinstance(event, ListingCorrected):
        changed = sorted(k for k, v in event.changes.model_dump().items() if v is not None)
        return f"corrected {', '.join(changed)}: {event.reason}"
    if isinstance(event, ObligationPerformed | ListingShielded | ListingRevoked):
        verb = {
            "ObligationPerformed": "ground for exit",
            "ListingShielded": "shielded, ground",
            "ListingRevoked": "revoked, ground",
        }[event.type]
        return f"{verb}: {event.ground}"
    if isinstance(event, CorrectionRequested):
        return f"correction requested, received {cst(event.received_at)}: {event.grounds}"
    if isinstance(event, CorrectionRejected):
        return f"correction rejected: {event.reason}"
    measures = ", ".join(event.measures) or "every measure of the task"
    by = "confirmed by a person" if event.origin == "person" else "by the department's system"
    if isinstance(event, SanctionsRetained):
        return f"retained {measures} until {event.until.isoformat()} ({event.legal_basis}), {by}"
    verb = "applied" if isinstance(event, SanctionsApplied) else "lifted"
    return f"{verb} {measures}, {by}"
