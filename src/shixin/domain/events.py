"""The wire contract as pydantic models: court events and department feedback (DESIGN §3).

The JSON form of every event uses exactly these field names. Validation here is the first line of
the dead-letter policy: anything a model refuses never reaches a fold.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Annotated, Literal, TypeAlias
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    field_validator,
    model_validator,
)

from shixin.domain import identifiers

# --- text: names and free text --------------------------------------------------------------
#
# Names and free text travel to every downstream display and interception system, so they hold
# printable text only: no control characters (C0, DEL, C1), no line or paragraph separators, no
# invisible formatting characters (zero-width spaces, bidirectional overrides, BOM, ...), no
# U+FFFD (the mark of text already mis-decoded upstream), no lone surrogates (a broken UTF-16
# escape such as "\ud800" in JSON), no Unicode noncharacters, and no UTF-8 text mis-decoded as
# Latin-1 / Windows-1252 (mojibake). Everything else is allowed: CJK (including private-use
# characters for rare name characters), the middle dot of transliterated names (·), full-width
# forms, other scripts. ZWNJ / ZWJ stay allowed (Arabic, Persian and Indic scripts need them),
# and so does the Mongolian vowel separator.

_ALLOWED_FORMAT_CHARS = frozenset("\u200c\u200d\u180e")
_CONTROL_NAMES = {
    "\x00": "NULL",
    "\x07": "BELL",
    "\x08": "BACKSPACE",
    "\t": "TAB",
    "\n": "LINE FEED",
    "\x0b": "LINE TABULATION",
    "\x0c": "FORM FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}
_SURROGATE = re.compile("[\ud800-\udfff]")
_ASCII_CONTROL = re.compile("[\x00-\x1f\x7f]")
_MAX_SHOWN = 40


def _show(value: object) -> str:
    """A short, printable rendering of a bad value for a message."""
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "\u2026"


def _char(ch: str) -> str:
    name = _CONTROL_NAMES.get(ch) or unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} ({name})" if name else f"U+{ord(ch):04X}"


def _char_problem(ch: str) -> str | None:
    """Why `ch` may not appear in a name or a text, or None if it may."""
    if ch.isascii():
        return "the control character" if _ASCII_CONTROL.match(ch) else None
    if ch in _ALLOWED_FORMAT_CHARS:
        return None
    if ch == "\ufffd":
        return "the replacement character"
    code = ord(ch)
    if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
        return "the Unicode noncharacter"
    category = unicodedata.category(ch)
    if category == "Cc":
        return "the control character"
    if category in ("Zl", "Zp"):
        return "the line break"
    if category == "Cf":
        return "the invisible formatting character"
    if category == "Cs":
        return "the lone surrogate"
    return None


def _no_surrogates(value: object) -> object:
    """Before validation: a lone surrogate (from a JSON escape like "\ud800") is no character
    at all; say so rather than let the string validator fail with a vague message."""
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        if found:
            raise ValueError(
                f"contains the lone surrogate U+{ord(found.group()):04X} at position "
                f"{found.start() + 1}, which is not a Unicode character (a broken UTF-16 escape)"
            )
    return value


# the highest character Latin-1 or Windows-1252 decodes a byte to (U+2122 TRADE MARK SIGN)
_CP1252_LAST = max(bytes(range(256)).decode("cp1252", errors="ignore"))


def _mojibake(value: str) -> tuple[str, str] | None:
    """(codec, what it should have read) if `value` is UTF-8 text mis-decoded as Latin-1 or
    Windows-1252, else None. Genuine Latin-1 names never re-decode as UTF-8: an accented letter
    would have to be followed by one of the C1 / symbol characters a UTF-8 continuation byte
    maps to."""
    if value.isascii() or max(value) > _CP1252_LAST:
        return None  # (a character neither codec has: it cannot be mis-decoded text)
    for codec, label in (("latin-1", "Latin-1"), ("cp1252", "Windows-1252")):
        try:
            fixed = value.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
        return label, fixed
    return None


def _check_text(value: str) -> str:
    """Return `value` if every character of it is printable text (see above), else raise."""
    wrong = _mojibake(value)
    if wrong is not None:
        codec, fixed = wrong
        raise ValueError(
            f"looks like UTF-8 text mis-decoded as {codec} (mojibake): decoded correctly it "
            f"reads {_show(fixed)}"
        )
    if value.isprintable() and "\ufffd" not in value:
        # every character refused below but U+FFFD is a control, format, separator, surrogate
        # or unassigned character, none of which is printable: nothing to look for
        return value
    for position, ch in enumerate(value, start=1):
        problem = _char_problem(ch)
        if problem is not None:
            note = ": the text was mis-decoded before it was sent" if ch == "\ufffd" else ""
            raise ValueError(f"contains {problem} {_char(ch)} at position {position}{note}")
    return value


def _check_name(value: str) -> str:
    _check_text(value)
    if not value.strip():
        raise ValueError("must not be blank (it has only whitespace)")
    return value


_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")


_KEY = re.compile(r"[A-Za-z0-9_.:\-]*")


def _check_key(value: str) -> str:
    if _KEY.fullmatch(value):
        return value
    for position, ch in enumerate(value, start=1):
        if ch not in _KEY_CHARS:
            shown = repr(ch) if ch.isprintable() else _char(ch)
            raise ValueError(
                f"character {shown} at position {position} is not allowed (ids use only "
                "the ASCII letters and digits and _ . : -)"
            )
    return value


# (StringConstraints first, so that the length is checked by the string validator itself)
Text = Annotated[
    str,
    StringConstraints(max_length=2000),
    BeforeValidator(_no_surrogates),
    AfterValidator(_check_text),
]
"""Free text (obligations, reasons): at most 2000 characters of printable text, may be empty."""
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    BeforeValidator(_no_surrogates),
    AfterValidator(_check_name),
]
"""A name: 1 to 200 characters of printable text, not only whitespace."""
Key = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_check_key)]
"""An id used as a Kafka key or table key (entry ids, court codes, departments, measures)."""
# Identifiers checked by `identifiers`; the bound keeps an absurd value out of the reason.
IdText = Annotated[str, StringConstraints(max_length=64)]

# --- time: RFC 3339 timestamps with a real UTC offset, ISO dates -----------------------------

_MIN_OFFSET, _MAX_OFFSET = timedelta(hours=-12), timedelta(hours=14)
_OFFSET_RANGE = "-12:00 to +14:00"
_TRAILING_OFFSET = re.compile(
    r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?P<sign>[+-])(?P<hours>\d{2}):?(?P<minutes>\d{2})$"
)
_NUMBER = re.compile(r"\s*[+-]?\d+(?:\.\d*)?\s*")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP_FORM = "an RFC 3339 timestamp with a UTC offset, e.g. 2024-03-11T10:00:00+08:00"


def _timestamp_input(value: object) -> object:
    """Before validation: refuse numbers (pydantic would read seconds since 1970 as UTC, but the
    contract is RFC 3339 with the court's offset) and offsets no time zone has."""
    if isinstance(value, bool | int | float) or (
        isinstance(value, str) and _NUMBER.fullmatch(value)
    ):
        raise ValueError(f"must be {_TIMESTAMP_FORM}, got the number {_show(value)}")
    if isinstance(value, str):
        found = _TRAILING_OFFSET.search(value)
        if found:
            hours, minutes = int(found["hours"]), int(found["minutes"])
            sign = -1 if found["sign"] == "-" else 1
            offset = sign * timedelta(hours=hours, minutes=minutes)
            if minutes > 59 or not _MIN_OFFSET <= offset <= _MAX_OFFSET:
                raise ValueError(
                    f"UTC offset {found['sign']}{found['hours']}:{found['minutes']} is not a "
                    f"real time zone offset (offsets run from {_OFFSET_RANGE})"
                )
    return value


def _check_offset(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is not None and not _MIN_OFFSET <= offset <= _MAX_OFFSET:
        minutes = int(abs(offset).total_seconds()) // 60
        sign = "-" if offset < timedelta(0) else "+"
        raise ValueError(
            f"UTC offset {sign}{minutes // 60:02d}:{minutes % 60:02d} is not a real time zone "
            f"offset (offsets run from {_OFFSET_RANGE})"
        )
    return value


def _date_input(value: object) -> object:
    """Before validation: a date is ``YYYY-MM-DD`` (or a `date`), never a number."""
    if isinstance(value, bool | int | float):
        raise ValueError(f"must be a date as YYYY-MM-DD, got the number {_show(value)}")
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError(f"must be a date as YYYY-MM-DD, got {_show(value)}")
    return value


Timestamp = Annotated[
    AwareDatetime, BeforeValidator(_timestamp_input), AfterValidator(_check_offset)
]
"""An RFC 3339 timestamp with a UTC offset between -12:00 and +14:00 (event time)."""
Day = Annotated[date, BeforeValidator(_date_input)]
"""A calendar date, ``YYYY-MM-DD``."""


def _check_grounds(value: tuple[int, ...]) -> tuple[int, ...]:
    if not value:
        raise ValueError("must list at least one listing ground (1-6)")
    for ground in value:
        if value.count(ground) > 1:
            raise ValueError(
                f"ground {ground} is listed {value.count(ground)} times; each ground may "
                "appear once"
            )
    return value


Ground = Annotated[int, Strict(), Field(ge=1, le=6)]
"""A listing ground (失信情形, SPC 2017 Art. 1): an integer 1-6."""
Grounds = Annotated[tuple[Ground, ...], AfterValidator(_check_grounds)]
"""1 to 6 different listing grounds."""

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
    id: IdText
    name: Name
    sex: Sex | None = None
    birth_date: Day | None = None
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
                raise ValueError(
                    "legal_representative is for entities only, but the subject is a person"
                )
        else:
            identifiers.validate_credit_code(self.id)
            for field in ("sex", "birth_date"):
                if getattr(self, field) is not None:
                    raise ValueError(f"{field} is for persons only, but the subject is an entity")
        return self


class RelatedPerson(_Model):
    role: RelatedRole
    id: IdText | None = None
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
    case_no: IdText
    court: Court
    occurred_at: Timestamp
    recorded_at: Timestamp | None = None

    @field_validator("case_no")
    @classmethod
    def _check_case_no(cls, value: str) -> str:
        identifiers.parse_case_no(value)
        return value


class RiskWarningIssued(_CourtEventBase):
    type: Literal["RiskWarningIssued"] = "RiskWarningIssued"
    served_at: Timestamp


class DebtorListed(_CourtEventBase):
    type: Literal["DebtorListed"] = "DebtorListed"
    subject: Subject
    related_persons: tuple[RelatedPerson, ...] = ()
    grounds: Grounds
    term_ends_on: Day | None = None
    basis: Basis
    obligation: Text
    performance: Performance
    performed_part: Text = ""
    unperformed_part: Text = ""
    filed_on: Day
    decision_served_at: Timestamp | None = None
    public: StrictBool = True

    @model_validator(mode="after")
    def _related_not_debtor(self) -> DebtorListed:
        if self.subject.kind == "person":
            for index, person in enumerate(self.related_persons):
                if person.id == self.subject.id:
                    raise ValueError(
                        f"related_persons.{index}.id {person.id} is the debtor's own resident "
                        "ID: a natural person debtor cannot also be their own related person"
                    )
        return self


class ListingChanges(_Model):
    """Fields a correction may change; a field left out (or null) is unchanged."""

    case_no: IdText | None = None
    subject: Subject | None = None
    related_persons: tuple[RelatedPerson, ...] | None = None
    grounds: Grounds | None = None
    term_ends_on: Day | None = None
    basis: Basis | None = None
    obligation: Text | None = None
    performance: Performance | None = None
    performed_part: Text | None = None
    unperformed_part: Text | None = None
    filed_on: Day | None = None
    decision_served_at: Timestamp | None = None
    public: StrictBool | None = None

    @field_validator("case_no")
    @classmethod
    def _check_case_no(cls, value: str | None) -> str | None:
        if value is not None:
            identifiers.parse_case_no(value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> ListingChanges:
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError(
                "a correction must change at least one field (changes is empty or all null)"
            )
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
    received_at: Timestamp
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
    subject_id: IdText
    measures: tuple[Key, ...]
    entry_ids: tuple[Key, ...] = ()
    at: Timestamp
    # "agent": an automatic department's agent acted; "person": a person confirmed a manual task.
    origin: Origin = "agent"


class SanctionsApplied(_SanctionEventBase):
    type: Literal["SanctionsApplied"] = "SanctionsApplied"


class SanctionsLifted(_SanctionEventBase):
    type: Literal["SanctionsLifted"] = "SanctionsLifted"


class SanctionsRetained(_SanctionEventBase):
    type: Literal["SanctionsRetained"] = "SanctionsRetained"
    legal_basis: Text
    until: Day


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
