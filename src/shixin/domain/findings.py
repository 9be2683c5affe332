"""Audit findings: facts an auditor must see, recorded and never silently dropped (DESIGN §4).

Pure detectors over single events plus the little state they need (was the entry warned, when
was the decision served). A finding is not an obligation: nothing waits on it.

* ``listed_without_warning``: a DebtorListed for an entry with no earlier RiskWarningIssued
  (the brief 四(二)3: the court sends a risk warning notice before listing).
* ``late_correction_request``: a CorrectionRequested received after the policy's correction
  window, counted from ``decision_served_at`` (the brief 四(二)3: within 10 days of receiving
  the decision). No decision_served_at: the window cannot be judged, no finding.
* ``minor_listed``: a natural-person debtor, or a related person with a resident ID, under 18 on
  the CST date of the listing (SPC 2017 Art. 4: minors must not be listed).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, TypeAlias
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from shixin.domain.deadlines import local_date
from shixin.domain.events import CorrectionRequested, DebtorListed
from shixin.domain.identifiers import mask_resident_id, resident_id_birth_date
from shixin.domain.policy import DeadlinePolicy

__all__ = [
    "ADULT_AGE",
    "Finding",
    "FindingKind",
    "correction_findings",
    "is_minor_on",
    "listing_findings",
]

FindingKind: TypeAlias = Literal[
    "listed_without_warning", "late_correction_request", "minor_listed"
]
ADULT_AGE = 18


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FindingKind
    entry_id: str
    event_id: UUID
    detail: str


def _anniversary(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # born on 29 February, anniversary in a common year
        # Civil Code Art. 202: no corresponding day -> the last day of that month.
        return date(born.year + years, 2, 28)


def is_minor_on(born: date, on: date) -> bool:
    """True if a person born on ``born`` is under 18 on ``on``.

    Age in full years (周岁) counts by the Gregorian calendar and a year of age is complete only
    from the day after the birthday: "从周岁生日的第二天起算" (SPC interpretation on juvenile
    criminal cases, 法释〔2006〕1号 Art. 2, applied here by analogy; it agrees with Civil Code
    Art. 201, the start day is not counted). So a person is still a minor on their 18th birthday
    and an adult from the next day; an audit flag errs toward the protected person.
    """
    return on <= _anniversary(born, ADULT_AGE)


def _age_detail(who: str, resident_id: str, born: date, on: date) -> str:
    return (
        f"{who} (resident ID {mask_resident_id(resident_id)}, born {born.isoformat()}) was under "
        f"{ADULT_AGE} when listed on {on.isoformat()} (CST); minors must not be listed "
        "(SPC 2017 Art. 4)"
    )


def listing_findings(event: DebtorListed, warned: bool) -> list[Finding]:
    """Findings for one listing: no earlier risk warning, and each minor it names."""
    found: list[Finding] = []
    listed_on = local_date(event.occurred_at)
    if not warned:
        found.append(
            Finding(
                kind="listed_without_warning",
                entry_id=event.entry_id,
                event_id=event.event_id,
                detail=(
                    f"entry {event.entry_id} was listed on {listed_on.isoformat()} (CST) with no "
                    "earlier risk warning (风险提示) (brief 四(二)3)"
                ),
            )
        )
    people = [("the debtor", event.subject.id)] if event.subject.kind == "person" else []
    # a related person without a resident ID: the age cannot be known
    people += [(f"related person ({p.role})", p.id) for p in event.related_persons if p.id]
    for who, resident_id in people:
        born = resident_id_birth_date(resident_id)
        if is_minor_on(born, listed_on):
            found.append(
                Finding(
                    kind="minor_listed",
                    entry_id=event.entry_id,
                    event_id=event.event_id,
                    detail=_age_detail(who, resident_id, born, listed_on),
                )
            )
    return found


def correction_findings(
    event: CorrectionRequested, decision_served_at: datetime | None, policy: DeadlinePolicy
) -> list[Finding]:
    """A finding if the application came after the correction window closed."""
    if decision_served_at is None:
        return []
    window = policy.correction_window
    last_day = window.due(decision_served_at)
    received_on = local_date(event.received_at)
    if received_on <= last_day:
        return []
    return [
        Finding(
            kind="late_correction_request",
            entry_id=event.entry_id,
            event_id=event.event_id,
            detail=(
                f"correction application received on {received_on.isoformat()} (CST), after "
                f"the window of {window.length} {window.unit.replace('_', ' ')} from the "
                f"decision served on {local_date(decision_served_at).isoformat()} closed on "
                f"{last_day.isoformat()} (policy {policy.name})"
            ),
        )
    ]
