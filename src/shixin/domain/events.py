"""The wire contract as pydantic models: court events and department feedback (DESIGN §3).

The JSON form of every event uses exactly these field names. Validation here is the first line of
the dead-letter policy: anything a model refuses never reaches a fold.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, TypeAlias
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    field_validator,
    model_validator,
)

from shixin.domain import identifiers

# Names and free text: no control characters (they break every downstream display system).
Text = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00-\x1f\x7f]*$")]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
]
Key = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]

SubjectKind = Literal["person", "entity"]
Sex = Literal["male", "female"]
RelatedRole = Literal[
    "legal_representative", "principal", "actual_controller", "responsible_person"
]
RELATED_ROLES: tuple[RelatedRole, ...] = (
    "legal_representative",
    "principal",
    "actual_controller",
    "responsible_person",
)
# DOMAIN §3: the 7 exit grounds of SPC 2017 Art. 10, plus the end of a listing term.
ExitGround = Literal[
    "performed",
    "settlement_performed",
    "creditor_request",
    "no_assets_terminal",
    "suspended",
    "not_enforced",
    "terminated",
    "term_expired",
]
RevocationGround = Literal[
    "performed",
    "settlement_performed",
    "creditor_request",
    "no_assets_terminal",
    "suspended",
    "not_enforced",
    "terminated",
    "term_expired",
    "wrongly_listed",
    "correction_upheld",
]
Performance = Literal["none", "partial"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Court(_Model):
    code: Key
    name: Name


class Basis(_Model):
    doc_no: Name
    issuer: Name


class Subject(_Model):
    """The listed debtor: a natural person or an entity, identified by a checked id."""

    kind: SubjectKind
    id: str
    name: Name
    sex: Sex | None = None
    birth_date: date | None = None
    legal_representative: Name | None = None

    @model_validator(mode="after")
    def _check_id(self) -> Subject:
        if self.kind == "person":
            identifiers.validate_resident_id(self.id)
            born = identifiers.resident_id_birth_date(self.id)
            if self.birth_date is not None and self.birth_date != born:
                raise ValueError(
                    f"birth_date {self.birth_date.isoformat()} does not match the resident ID "
                    f"(which says {born.isoformat()})"
                )
            sex = identifiers.resident_id_sex(self.id)
            if self.sex is not None and self.sex != sex:
                raise ValueError(
                    f"sex {self.sex} does not match the resident ID (which says {sex})"
                )
            if self.legal_representative is not None:
                raise ValueError("legal_representative is for entities only")
        else:
            identifiers.validate_credit_code(self.id)
            if self.sex is not None or self.birth_date is not None:
                raise ValueError("sex and birth_date are for persons only")
        return self


class RelatedPerson(_Model):
    role: RelatedRole
    id: str | None = None
    name: Name

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str | None) -> str | None:
        if value is not None:
            identifiers.validate_resident_id(value)
        return value


class _CourtEventBase(_Model):
    event_id: UUID
    entry_id: Key
    case_no: str
    court: Court
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime | None = None

    @field_validator("case_no")
    @classmethod
    def _check_case_no(cls, value: str) -> str:
        identifiers.parse_case_no(value)
        return value


class RiskWarningIssued(_CourtEventBase):
    type: Literal["RiskWarningIssued"] = "RiskWarningIssued"
    served_at: AwareDatetime


class DebtorListed(_CourtEventBase):
    type: Literal["DebtorListed"] = "DebtorListed"
    subject: Subject
    related_persons: tuple[RelatedPerson, ...] = ()
    grounds: tuple[Annotated[int, Field(ge=1, le=6)], ...] = Field(min_length=1, max_length=6)
    term_ends_on: date | None = None
    basis: Basis
    obligation: Text
    performance: Performance
    performed_part: Text = ""
    unperformed_part: Text = ""
    filed_on: date
    decision_served_at: AwareDatetime | None = None
    public: bool = True

    @model_validator(mode="after")
    def _related_not_debtor(self) -> DebtorListed:
        if self.subject.kind == "person" and any(
            p.id == self.subject.id for p in self.related_persons
        ):
            raise ValueError("a natural person debtor cannot also be their own related person")
        if len(set(self.grounds)) != len(self.grounds):
            raise ValueError("grounds must not repeat")
        return self


class ListingChanges(_Model):
    """Fields a correction may change; a field left out (or null) is unchanged."""

    case_no: str | None = None
    subject: Subject | None = None
    related_persons: tuple[RelatedPerson, ...] | None = None
    grounds: tuple[Annotated[int, Field(ge=1, le=6)], ...] | None = Field(
        default=None, min_length=1, max_length=6
    )
    term_ends_on: date | None = None
    basis: Basis | None = None
    obligation: Text | None = None
    performance: Performance | None = None
    performed_part: Text | None = None
    unperformed_part: Text | None = None
    filed_on: date | None = None
    decision_served_at: AwareDatetime | None = None
    public: bool | None = None

    @field_validator("case_no")
    @classmethod
    def _check_case_no(cls, value: str | None) -> str | None:
        if value is not None:
            identifiers.parse_case_no(value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> ListingChanges:
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError("a correction must change at least one field")
        return self


class ListingCorrected(_CourtEventBase):
    type: Literal["ListingCorrected"] = "ListingCorrected"
    changes: ListingChanges
    reason: Text


class ObligationPerformed(_CourtEventBase):
    type: Literal["ObligationPerformed"] = "ObligationPerformed"
    ground: ExitGround


class CorrectionRequested(_CourtEventBase):
    type: Literal["CorrectionRequested"] = "CorrectionRequested"
    received_at: AwareDatetime
    grounds: Text


class CorrectionRejected(_CourtEventBase):
    type: Literal["CorrectionRejected"] = "CorrectionRejected"
    reason: Text


class ListingShielded(_CourtEventBase):
    type: Literal["ListingShielded"] = "ListingShielded"
    ground: ExitGround


class ListingRevoked(_CourtEventBase):
    type: Literal["ListingRevoked"] = "ListingRevoked"
    ground: RevocationGround


CourtEvent: TypeAlias = Annotated[
    RiskWarningIssued
    | DebtorListed
    | ListingCorrected
    | ObligationPerformed
    | CorrectionRequested
    | CorrectionRejected
    | ListingShielded
    | ListingRevoked,
    Field(discriminator="type"),
]
COURT_EVENT_TYPES: tuple[type[_CourtEventBase], ...] = (
    RiskWarningIssued,
    DebtorListed,
    ListingCorrected,
    ObligationPerformed,
    CorrectionRequested,
    CorrectionRejected,
    ListingShielded,
    ListingRevoked,
)


# --- department feedback (sanction.events) -------------------------------------------------

Origin = Literal["agent", "person"]


class _SanctionEventBase(_Model):
    event_id: UUID
    department: Key
    subject_id: str
    measures: tuple[Key, ...]
    entry_ids: tuple[Key, ...] = ()
    at: AwareDatetime
    # "agent": an automatic department's agent acted; "person": a person confirmed a manual task.
    origin: Origin = "agent"


class SanctionsApplied(_SanctionEventBase):
    type: Literal["SanctionsApplied"] = "SanctionsApplied"


class SanctionsLifted(_SanctionEventBase):
    type: Literal["SanctionsLifted"] = "SanctionsLifted"


class SanctionsRetained(_SanctionEventBase):
    type: Literal["SanctionsRetained"] = "SanctionsRetained"
    legal_basis: Text
    until: date


SanctionEvent: TypeAlias = Annotated[
    SanctionsApplied | SanctionsLifted | SanctionsRetained, Field(discriminator="type")
]
SANCTION_EVENT_TYPES: tuple[type[_SanctionEventBase], ...] = (
    SanctionsApplied,
    SanctionsLifted,
    SanctionsRetained,
)

AnyEvent: TypeAlias = Annotated[
    RiskWarningIssued
    | DebtorListed
    | ListingCorrected
    | ObligationPerformed
    | CorrectionRequested
    | CorrectionRejected
    | ListingShielded
    | ListingRevoked
    | SanctionsApplied
    | SanctionsLifted
    | SanctionsRetained,
    Field(discriminator="type"),
]

COURT_EVENT_ADAPTER: TypeAdapter[CourtEvent] = TypeAdapter(CourtEvent)
SANCTION_EVENT_ADAPTER: TypeAdapter[SanctionEvent] = TypeAdapter(SanctionEvent)
ANY_EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def event_time(event: CourtEvent | SanctionEvent) -> datetime:
    """The moment an event happened, in event time."""
    if isinstance(event, _SanctionEventBase):
        return event.at
    return event.occurred_at
