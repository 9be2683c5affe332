"""The entry lifecycle fold: ``entry' = apply(entry, event)``.

``warned -> listed -> (corrected)* -> shielded | revoked``. An event that does not fit the current
state raises :class:`LifecycleError` with a reason a person can read; the caller dead-letters it.
Deduplication is by event id per entry: the position (``topic/partition@offset``) that first
applied an event is remembered, so a redelivery of the same message is recognised as harmless while
the same event id arriving from anywhere else is a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shixin.domain.build import build, evolve
from shixin.domain.events import (
    Basis,
    CorrectionRejected,
    CorrectionRequested,
    Court,
    CourtEvent,
    DebtorListed,
    ListingCorrected,
    ListingRevoked,
    ListingShielded,
    ObligationPerformed,
    Performance,
    RelatedPerson,
    RiskWarningIssued,
    Subject,
    SubjectKind,
)
from shixin.domain.findings import Finding, correction_findings, listing_findings
from shixin.domain.obligations import (
    Obligation,
    ObligationKind,
    close_obligations,
    end_of_day,
    open_obligation,
    safe_due,
)
from shixin.domain.policy import DeadlinePolicy

EntryState = Literal["warned", "listed", "shielded", "revoked"]


class LifecycleError(ValueError):
    """The event does not fit the entry's current state."""


class DuplicateEvent(LifecycleError):
    """The event id was already applied to this entry from another position."""


class Entry(BaseModel):
    """One debtor in one enforcement case, as the court has told us so far."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entry_id: str
    state: EntryState
    version: int
    case_no: str
    court: Court
    last_event_at: AwareDatetime
    warned_at: AwareDatetime | None = None
    subject: Subject | None = None
    related_persons: tuple[RelatedPerson, ...] = ()
    grounds: tuple[int, ...] = ()
    term_ends_on: date | None = None
    basis: Basis | None = None
    obligation: str = ""
    performance: Performance = "none"
    performed_part: str = ""
    unperformed_part: str = ""
    filed_on: date | None = None
    decision_served_at: AwareDatetime | None = None
    public: bool = True
    listed_at: AwareDatetime | None = None
    performed_at: AwareDatetime | None = None
    performed_ground: str | None = None
    correction_requested_at: AwareDatetime | None = None
    left_at: AwareDatetime | None = None
    exit_ground: str | None = None
    # event_id -> the position that applied it (dedupe per key, DESIGN §1.4)
    applied: dict[str, str] = {}
    # every subject this entry has ever named, with the roles it last named them in: a
    # correction that moves the entry away from a subject must still tell that subject
    named_ever: dict[str, tuple[SubjectKind, tuple[str, ...]]] = {}
    obligations: tuple[Obligation, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def is_listed(self) -> bool:
        return self.state == "listed"

    def namings(self) -> dict[str, tuple[SubjectKind, tuple[str, ...]]]:
        """Every subject this entry names, with its kind and the roles it is named in."""
        if self.subject is None:
            return {}
        named: dict[str, tuple[SubjectKind, tuple[str, ...]]] = {
            self.subject.id: (self.subject.kind, ("debtor",))
        }
        for person in self.related_persons:
            if person.id is None:
                continue  # no id: nothing to match at an interception point
            kind, roles = named.get(person.id, ("person", ()))
            if person.role not in roles:
                named[person.id] = (kind, tuple(sorted((*roles, person.role))))
        return named


def apply_event(
    entry: Entry | None, event: CourtEvent, position: str, policy: DeadlinePolicy
) -> Entry:
    """Apply one court event to its entry; raise LifecycleError if it does not fit.

    A redelivery (same event id, same position) returns the entry unchanged: callers compare
    versions to see that nothing happened.
    """
    event_id = str(event.event_id)
    if entry is not None:
        first = entry.applied.get(event_id)
        if first == position:
            return entry
        if first is not None:
            raise DuplicateEvent(
                f"duplicate event {event_id}: already applied to entry {entry.entry_id} "
                f"from {first}"
            )
        if event.entry_id != entry.entry_id:
            raise LifecycleError(f"event for entry {event.entry_id} given entry {entry.entry_id}")
        if event.occurred_at < entry.last_event_at:
            raise LifecycleError(
                f"{event.type} at {event.occurred_at.isoformat()} is earlier than the entry's "
                f"last event at {entry.last_event_at.isoformat()}"
            )
    updated = _transition(entry, event)
    obligations, findings = _deadlines(entry, updated, event, policy)
    return evolve(
        updated,
        version=(entry.version if entry else 0) + 1,
        last_event_at=event.occurred_at,
        applied={**(entry.applied if entry else {}), event_id: position},
        named_ever={**updated.named_ever, **updated.namings()},
        obligations=obligations,
        findings=findings,
    )


def _court_obligation(
    after: Entry,
    kind: ObligationKind,
    suffix: str,
    opened_at: datetime,
    due: Callable[[], date],
) -> Obligation:
    return Obligation(
        id=f"{kind}/{after.entry_id}/{suffix}",
        kind=kind,
        entry_id=after.entry_id,
        subject_id=after.subject.id if after.subject else None,
        court=after.court.code,
        opened_at=opened_at,
        due_on=safe_due(due),
    )


def _term_obligation(after: Entry, term_end: date, policy: DeadlinePolicy) -> Obligation:
    """The court must delete the entry within the policy's period after its term ends."""
    return _court_obligation(
        after,
        "court_exit",
        "term",
        end_of_day(term_end),
        partial(policy.term_expiry_exit.due, term_end),
    )


def _deadlines(
    before: Entry | None, after: Entry, event: CourtEvent, policy: DeadlinePolicy
) -> tuple[tuple[Obligation, ...], tuple[Finding, ...]]:
    """The court's obligations and the findings after `event` (DESIGN §4 Deadlines, Findings)."""
    obligations = before.obligations if before else ()
    findings = list(before.findings if before else ())
    if isinstance(event, DebtorListed):
        findings += listing_findings(event, warned=before is not None)
        if event.term_ends_on is not None:
            obligations = open_obligation(
                obligations, _term_obligation(after, event.term_ends_on, policy)
            )
    elif isinstance(event, ObligationPerformed):
        performed = _court_obligation(
            after,
            "court_exit",
            "performed",
            event.occurred_at,
            partial(policy.court_exit.due, event.occurred_at),
        )
        obligations = open_obligation(obligations, performed)
    elif isinstance(event, CorrectionRequested):
        findings += correction_findings(event, after.decision_served_at, policy)
        n = sum(1 for o in obligations if o.kind == "correction_review") + 1
        review = _court_obligation(
            after,
            "correction_review",
            str(n),
            event.received_at,
            partial(policy.correction_review.due, event.received_at),
        )
        obligations = open_obligation(obligations, review)
    elif isinstance(event, CorrectionRejected):
        obligations = close_obligations(obligations, event.occurred_at, ["correction_review"])
    elif isinstance(event, ListingCorrected) and event.changes.term_ends_on is not None:
        term = _term_obligation(after, event.changes.term_ends_on, policy)
        obligations = open_obligation(tuple(o for o in obligations if o.id != term.id), term)
    elif isinstance(event, ListingShielded | ListingRevoked):
        # an obligation that would only have opened later never came due
        obligations = tuple(o for o in obligations if o.opened_at <= event.occurred_at)
        obligations = close_obligations(
            obligations, event.occurred_at, ["court_exit", "correction_review"]
        )
    return obligations, tuple(findings)


def _new_entry(event: CourtEvent, state: EntryState, **fields: object) -> Entry:
    """An entry's first state (built, not validated: every value comes from the validated
    event; `apply_event` sets its version, history and obligations)."""
    return build(
        Entry,
        entry_id=event.entry_id,
        state=state,
        version=0,
        case_no=event.case_no,
        court=event.court,
        last_event_at=event.occurred_at,
        applied={},
        named_ever={},
        **fields,
    )


def _transition(entry: Entry | None, event: CourtEvent) -> Entry:
    if isinstance(event, RiskWarningIssued):
        if entry is not None:
            raise LifecycleError(_not_allowed(event, entry))
        return _new_entry(event, "warned", warned_at=event.served_at)
    if isinstance(event, DebtorListed):
        if entry is not None and entry.state != "warned":
            raise LifecycleError(_not_allowed(event, entry))
        return _new_entry(
            event,
            "listed",
            warned_at=entry.warned_at if entry else None,
            subject=event.subject,
            related_persons=event.related_persons,
            grounds=event.grounds,
            term_ends_on=event.term_ends_on,
            basis=event.basis,
            obligation=event.obligation,
            performance=event.performance,
            performed_part=event.performed_part,
            unperformed_part=event.unperformed_part,
            filed_on=event.filed_on,
            decision_served_at=event.decision_served_at,
            public=event.public,
            listed_at=event.occurred_at,
        )
    if entry is None:
        raise LifecycleError(f"{event.type} for entry {event.entry_id}, which was never listed")
    if entry.state != "listed":
        raise LifecycleError(_not_allowed(event, entry))
    if isinstance(event, ListingCorrected):
        changes = event.changes.model_dump(exclude_none=True)
        # model_dump turned nested models into dicts; take the models themselves back
        for name in changes:
            changes[name] = getattr(event.changes, name)
        return evolve(entry, **changes)
    if isinstance(event, ObligationPerformed):
        return evolve(entry, performed_at=event.occurred_at, performed_ground=event.ground)
    if isinstance(event, CorrectionRequested):
        return evolve(entry, correction_requested_at=event.received_at)
    if isinstance(event, CorrectionRejected):
        if entry.correction_requested_at is None:
            raise LifecycleError(
                f"CorrectionRejected for entry {entry.entry_id}, which has no pending "
                "correction request"
            )
        return evolve(entry, correction_requested_at=None)
    if isinstance(event, ListingShielded | ListingRevoked):
        return evolve(
            entry,
            state="shielded" if isinstance(event, ListingShielded) else "revoked",
            left_at=event.occurred_at,
            exit_ground=event.ground,
        )
    raise LifecycleError(f"unknown event type {event.type}")  # pragma: no cover


def _not_allowed(event: CourtEvent, entry: Entry) -> str:
    return f"{event.type} is not allowed for entry {entry.entry_id} in state {entry.state}"
