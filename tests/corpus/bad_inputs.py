"""A corpus of bad input, one case per kind, each with the precise reason it must be refused with.

A case gives the bad input in up to two forms:

- ``raw``: the value of one message on ``court.events`` (Avro single-object encoding when the
  case is about content, written with `shixin.schemas.codec.encode` so that nothing validates
  it on the way; garbage when the case is about the bytes), with ``raw_reason``, a regex the
  dead letter's reason must match (`re.search`). Lifecycle cases also give ``before``: valid
  events to publish first, on the same key, so that the bad one meets the state it must not fit.
- ``json_line``: one line for ``shixin publish``, with ``json_reason``, the regex its error must
  match (without the ``line N:`` prefix).

Every reason names the field (or the part of the message) and the problem. The module builds
everything at import time and is deterministic: the same process always sees the same bytes.
"""

from __future__ import annotations

import json
import random
import re
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shixin.domain.identifiers import make_credit_code, make_resident_id
from shixin.schemas.codec import encode
from shixin.schemas.dead_letter import DeadLetter
from shixin.schemas.model_codec import encode_model
from shixin.streams.topics import key_bytes

COURT_RECORD = "cn.shixin.court.v1"
COURT = {"code": "C360483", "name": "庐山市人民法院"}
AT = "2024-03-11T10:00:00+08:00"
LATER = "2024-03-20T10:00:00+08:00"
EARLIER = "2024-03-01T10:00:00+08:00"
BIRTH = date(1980, 5, 17)

# Event ids of the corpus: deterministic, and apart from the ones tests.builders hands out.
_ids = iter(range(1, 10**6))


def event_id() -> str:
    return str(uuid.UUID(int=0xBAD << 100 | next(_ids)))


def person(n: int, birth: date = BIRTH) -> str:
    """A valid resident ID (sequence n: odd = male)."""
    return make_resident_id("360483", birth, n)


def entity(n: int) -> str:
    """A valid unified social credit code."""
    return make_credit_code("9", "1", "360483", f"{n:08d}")


def event(kind: str, entry_id: str, at: str = AT, **fields: Any) -> dict[str, Any]:
    """A valid court event of `kind` in its JSON form (the Avro record is the same dict)."""
    return {
        "event_id": event_id(),
        "type": kind,
        "entry_id": entry_id,
        "case_no": fields.pop("case_no", "(2024)赣0483执12号"),
        "court": dict(COURT),
        "occurred_at": at,
        **fields,
    }


def listing(entry_id: str, subject_id: str, at: str = AT, **fields: Any) -> dict[str, Any]:
    """A valid DebtorListed of a natural person (male unless the id says otherwise)."""
    kind = fields.pop("kind", "person")
    subject: dict[str, Any] = {"kind": kind, "id": subject_id, "name": "张三"}
    if kind == "entity":
        subject.update(name="某某有限公司", legal_representative="李四")
    subject.update(fields.pop("subject", {}))
    values: dict[str, Any] = {
        "subject": subject,
        "related_persons": [],
        "grounds": [1],
        "term_ends_on": None,
        "basis": {"doc_no": "(2023)赣0483民初1号", "issuer": "庐山市人民法院"},
        "obligation": "支付货款100000元",
        "performance": "none",
        "performed_part": "",
        "unperformed_part": "100000元",
        "filed_on": "2024-01-05",
        "decision_served_at": at,
        "public": True,
    }
    values.update(fields)
    return event("DebtorListed", entry_id, at, **values)


def warning(entry_id: str, at: str = EARLIER) -> dict[str, Any]:
    return event("RiskWarningIssued", entry_id, at, served_at=at)


def performed(entry_id: str, at: str = LATER, ground: str = "performed") -> dict[str, Any]:
    return event("ObligationPerformed", entry_id, at, ground=ground)


def shielding(entry_id: str, at: str = LATER, ground: str = "performed") -> dict[str, Any]:
    return event("ListingShielded", entry_id, at, ground=ground)


def revocation(entry_id: str, at: str = LATER, ground: str = "wrongly_listed") -> dict[str, Any]:
    return event("ListingRevoked", entry_id, at, ground=ground)


def correction(entry_id: str, changes: dict[str, Any], at: str = LATER) -> dict[str, Any]:
    return event("ListingCorrected", entry_id, at, changes=changes, reason="更正")


def rejection(entry_id: str, at: str = LATER) -> dict[str, Any]:
    return event("CorrectionRejected", entry_id, at, reason="理由不成立")


def avro(record: dict[str, Any], record_type: str | None = None) -> bytes:
    """The record as one Avro single-object message of its court record, unvalidated."""
    return encode(f"{COURT_RECORD}.{record_type or record['type']}", record)


def jsonl(record: Any, ascii_only: bool = False) -> str:
    return json.dumps(record, ensure_ascii=ascii_only)


def exact(text: str) -> str:
    """A regex matching exactly `text`."""
    return "^" + re.escape(text) + "$"


def invalid(model: str, where: str, problem: str) -> str:
    """The exact reason validation gives: ``invalid <Model>: <field path>: <problem>``."""
    return exact(f"invalid {model}: {where}: {problem}")


@dataclass(frozen=True)
class BadInput:
    name: str
    """A unique slug (letters, digits, dashes)."""
    about: str
    """What is wrong, in words."""
    raw: bytes | None = None
    """The value on court.events (None with `tombstone`: a message with no value at all)."""
    raw_reason: str | None = None
    """Regex the dead letter's reason must match; None: this case has no raw form."""
    json_line: str | None = None
    json_reason: str | None = None
    """Regex the `shixin publish` error must match; None: this case has no JSON form."""
    key: bytes = b"bad-input"
    tombstone: bool = False
    before: tuple[dict[str, Any], ...] = ()
    """Valid events to publish first, on the same key."""
    event_id: str | None = None
    """The event id the dead letter must carry (lifecycle cases), else None."""
    entry_id: str | None = None
    state_after: str | None = None
    """The state the entry must be in after everything (lifecycle cases; None: no entry)."""
    reason_of: Callable[[str, int, list[int]], str] | None = field(default=None, compare=False)
    """For reasons that name a position: (topic, partition, offsets of `before`) -> regex."""
    live_gap: str | None = None
    """Why the live pipeline does not yet handle this case as it must (a known bug outside the
    validation rules); the live tests run such cases apart, as expected failures."""

    @property
    def has_raw(self) -> bool:
        return self.raw_reason is not None or self.reason_of is not None

    @property
    def has_json(self) -> bool:
        return self.json_line is not None

    def expected_raw_reason(self, topic: str, partition: int, before_offsets: list[int]) -> str:
        if self.reason_of is not None:
            return self.reason_of(topic, partition, before_offsets)
        assert self.raw_reason is not None
        return self.raw_reason


CASES: list[BadInput] = []


def _add(case: BadInput) -> None:
    assert re.fullmatch(r"[a-z0-9-]+", case.name), case.name
    assert all(c.name != case.name for c in CASES), f"duplicate case {case.name}"
    assert case.has_raw or case.has_json, case.name
    CASES.append(case)


def content(
    name: str,
    about: str,
    record: dict[str, Any],
    reason: str,
    *,
    raw_reason: str | None = None,
    raw: bool = True,
    json_form: bool = True,
    ascii_only: bool = False,
    record_type: str | None = None,
    live_gap: str | None = None,
) -> None:
    """A case about the content of one event: the same record as Avro (of the record named by
    its type, or `record_type`) and as a JSON line."""
    entry_id = record.get("entry_id")
    _add(
        BadInput(
            name=name,
            about=about,
            raw=avro(record, record_type) if raw else None,
            raw_reason=(raw_reason or reason) if raw else None,
            json_line=jsonl(record, ascii_only) if json_form else None,
            json_reason=reason if json_form else None,
            key=key_bytes(entry_id) if isinstance(entry_id, str) else b"bad-input",
            live_gap=live_gap,
        )
    )


def garbage(name: str, about: str, value: bytes | None, reason: str, **extra: Any) -> None:
    """A case about the bytes: raw form only."""
    _add(BadInput(name=name, about=about, raw=value, raw_reason=reason, **extra))


def json_only(name: str, about: str, line: str, reason: str) -> None:
    _add(BadInput(name=name, about=about, json_line=line, json_reason=reason))


def lifecycle(
    name: str,
    about: str,
    before: list[dict[str, Any]],
    bad: dict[str, Any],
    reason: str | Callable[[str, int, list[int]], str],
    state_after: str | None,
    raw: bytes | None = None,
) -> None:
    """A valid event that does not fit its entry's state: raw form only (`shixin publish`
    validates lines, it does not fold them)."""
    _add(
        BadInput(
            name=name,
            about=about,
            raw=raw if raw is not None else avro(bad),
            raw_reason=reason if isinstance(reason, str) else None,
            reason_of=None if isinstance(reason, str) else reason,
            key=key_bytes(bad["entry_id"]),
            before=tuple(before),
            event_id=bad["event_id"],
            entry_id=bad["entry_id"],
            state_after=state_after,
        )
    )


def _with(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `record` with the field at dotted `path` set (or removed: `_DROP`)."""
    copy: dict[str, Any] = json.loads(json.dumps(record))
    *parents, last = path.split(".")
    target: Any = copy
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is _DROP:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return copy


_DROP = object()


def _splice(message: bytes, placeholder: bytes, replacement: bytes) -> bytes:
    """Replace one placeholder in an encoded message by bytes of the same length (so the Avro
    length prefix stays right): how to put bytes on the wire that no encoder would write."""
    assert len(placeholder) == len(replacement) and message.count(placeholder) == 1
    return message.replace(placeholder, replacement)


# --- the bytes -----------------------------------------------------------------------------------

_template = listing("BYTES-1", person(1))
VALID = avro(_template)
_BODY_OF = f"Avro body for {COURT_RECORD}.DebtorListed"

garbage(
    "truncated-body",
    "an Avro body cut short (the last 7 bytes missing)",
    VALID[:-7],
    "^" + re.escape(f"truncated or corrupt {_BODY_OF}: ") + "unexpected end of data",
)
garbage(
    "header-only",
    "the 10-byte single-object header and no body at all",
    VALID[:10],
    "^" + re.escape(f"truncated or corrupt {_BODY_OF}: ") + "unexpected end of data",
)
garbage(
    "shorter-than-header",
    "9 bytes: shorter than the single-object header",
    VALID[:9],
    exact(
        "not Avro single-object encoding: expected C3 01, got "
        f"{VALID[:9].hex(' ').upper()} (9 bytes; the header alone is 10)"
    ),
)
_random = random.Random(20240311).randbytes(64)
garbage(
    "random-bytes",
    "64 random bytes",
    _random,
    exact(
        f"not Avro single-object encoding: expected C3 01, got {_random[:16].hex(' ').upper()} ..."
    ),
)
garbage(
    "empty-value",
    "a message whose value is zero bytes",
    b"",
    exact(
        "not Avro single-object encoding: expected C3 01, got nothing "
        "(0 bytes; the header alone is 10)"
    ),
)
garbage(
    "null-value",
    "a message with no value at all (a tombstone)",
    None,
    exact("empty message (no value)"),
    tombstone=True,
)
garbage(
    "wrong-magic",
    "the magic C3 02 instead of C3 01",
    b"\xc3\x02" + VALID[2:],
    "^" + re.escape("not Avro single-object encoding: expected C3 01, got C3 02 "),
)
_fingerprint = struct.pack("<Q", 0x1122334455667788)
garbage(
    "unknown-fingerprint",
    "a writer schema fingerprint no known schema has",
    b"\xc3\x01" + _fingerprint + VALID[10:],
    exact(f"unknown writer schema fingerprint 0x{_fingerprint.hex()}"),
)
garbage(
    "trailing-bytes",
    "a valid message followed by 3 more bytes",
    VALID + b"\x00\x01\x02",
    exact(f"3 trailing bytes after the Avro body of {COURT_RECORD}.DebtorListed"),
)
garbage(
    "json-on-the-topic",
    "a court event as a JSON text instead of Avro",
    jsonl(listing("BYTES-2", person(3))).encode(),
    "^" + re.escape("not Avro single-object encoding: expected C3 01, got 7B 22 "),
)
_letter = DeadLetter(
    reason="test",
    topic="court.events",
    partition=0,
    offset=1,
    original=b"x",
    at="2024-03-11T10:00:00+08:00",
)
garbage(
    "dead-letter-record",
    "a valid DeadLetter record on court.events",
    encode_model(_letter),
    exact("cn.shixin.deadletter.v1.DeadLetter is not a court or sanction event"),
)
garbage(
    "sanction-event",
    "a valid SanctionsApplied (department feedback) on court.events",
    encode(
        "cn.shixin.sanction.v1.SanctionsApplied",
        {
            "event_id": event_id(),
            "type": "SanctionsApplied",
            "department": "aviation",
            "subject_id": person(5),
            "measures": ["consumption.flights"],
            "entry_ids": ["X1"],
            "at": AT,
            "origin": "agent",
        },
    ),
    exact("SanctionsApplied is not a court event"),
)
garbage(
    "subject-status-record",
    "a valid SubjectStatus record (subject.status) on court.events",
    encode(
        "cn.shixin.subject.v1.SubjectStatus",
        {
            "subject_id": person(7),
            "kind": "person",
            "version": 1,
            "sanctionable": True,
            "entries": [],
            "cause_event_id": event_id(),
            "occurred_at": AT,
        },
    ),
    exact("cn.shixin.subject.v1.SubjectStatus is not a court or sanction event"),
)
garbage(
    "type-disagrees-with-record",
    "a DebtorListed record whose type field says ListingShielded",
    avro({**listing("BYTES-3", person(9)), "type": "ListingShielded"}, "DebtorListed"),
    exact(f"a {COURT_RECORD}.DebtorListed record carries type 'ListingShielded'"),
)
_placeholder = listing("BYTES-4", person(11), subject={"name": "@@@@"})
garbage(
    "gbk-bytes-in-avro-string",
    "a name written as GBK bytes (张三), not UTF-8, inside the Avro string",
    _splice(avro(_placeholder), b"@@@@", "张三".encode("gbk")),
    "^"
    + re.escape(f"truncated or corrupt {_BODY_OF}: UnicodeDecodeError: ")
    + r".*can't decode byte 0xd5",
)
_occurred = VALID.index(AT.encode()) + len(AT)  # the next byte: recorded_at's union branch
garbage(
    "corrupt-union-branch",
    "recorded_at with union branch 5 of a 2-branch union",
    VALID[:_occurred] + b"\x0a" + VALID[_occurred + 1 :],
    "^" + re.escape(f"truncated or corrupt {_BODY_OF}: IndexError"),
)
garbage(
    "negative-string-length",
    "event_id with a negative Avro string length",
    VALID[:10] + b"\x09" + VALID[11:],
    "^" + re.escape(f"truncated or corrupt {_BODY_OF}: unexpected end of data"),
)

# --- JSON that is no event at all ----------------------------------------------------------------

json_only(
    "json-not-json",
    "a line that is not JSON (cut short)",
    jsonl(listing("JSON-1", person(13)))[:40],
    r"^not JSON: .* \(column \d+\)$",
)
json_only("json-array", "a JSON array, not an object", "[1, 2, 3]", exact("not a JSON object"))
json_only(
    "json-missing-type",
    "an event without its type",
    jsonl(_with(listing("JSON-2", person(15)), "type", _DROP)),
    exact("invalid event: missing event type (the type field is required)"),
)
json_only(
    "confirmation-not-by-a-person",
    "a department confirmation (SanctionsApplied) that no person made",
    jsonl(
        {
            "event_id": event_id(),
            "type": "SanctionsApplied",
            "department": "education",
            "subject_id": person(17),
            "measures": ["consumption.private_school"],
            "entry_ids": ["X2"],
            "at": AT,
        }
    ),
    exact('department confirmations must have "origin": "person"'),
)

# --- the shape of an event -----------------------------------------------------------------------

_base = listing("SHAPE-1", person(19))
content(
    "unknown-event-type",
    "type DebtorDelisted, which no event has",
    _with(_base, "type", "DebtorDelisted"),
    "^" + re.escape("invalid event: unknown event type 'DebtorDelisted' (the type field must be"),
    raw_reason=exact(f"a {COURT_RECORD}.DebtorListed record carries type 'DebtorDelisted'"),
    record_type="DebtorListed",
)
content(
    "missing-required-field",
    "a DebtorListed without its subject",
    _with(_base, "subject", _DROP),
    invalid("DebtorListed", "subject", "missing (a required field)"),
    raw=False,
)
content(
    "missing-nested-field",
    "a court without its name",
    _with(_base, "court.name", _DROP),
    invalid("DebtorListed", "court.name", "missing (a required field)"),
    raw=False,
)
content(
    "extra-field",
    "a field the contract does not have",
    {**_base, "colour": "red"},
    invalid("DebtorListed", "colour", "unknown field (not part of the contract)"),
    raw=False,
)
content(
    "extra-nested-field",
    "an unknown field inside the subject",
    _with(_base, "subject.nickname", "三儿"),
    invalid("DebtorListed", "subject.nickname", "unknown field (not part of the contract)"),
    raw=False,
)
content(
    "wrong-type-grounds-string",
    'grounds as the string "1" instead of a list',
    _with(_base, "grounds", "1"),
    invalid("DebtorListed", "grounds", "Input should be a valid tuple, got '1'"),
    raw=False,
)
content(
    "wrong-type-ground-string-item",
    'a ground as the string "1" instead of the integer 1',
    _with(_base, "grounds", ["1"]),
    invalid("DebtorListed", "grounds.0", "Input should be a valid integer, got '1'"),
    raw=False,
)
content(
    "wrong-type-public",
    'public as the string "yes" instead of a boolean',
    _with(_base, "public", "yes"),
    invalid("DebtorListed", "public", "Input should be a valid boolean, got 'yes'"),
    raw=False,
)
content(
    "wrong-type-subject",
    "the subject as a bare name instead of an object",
    _with(_base, "subject", "张三"),
    "^"
    + re.escape("invalid DebtorListed: subject: Input should be a valid dictionary")
    + ".*got '张三'$",
    raw=False,
)
content(
    "non-uuid-event-id",
    "an event_id that is not a UUID",
    _with(_base, "event_id", "not-a-uuid"),
    "^"
    + re.escape("invalid DebtorListed: event_id: Input should be a valid UUID")
    + ".*got 'not-a-uuid'$",
)

# --- identifiers ---------------------------------------------------------------------------------

_rid = person(21)
_wrong_check = _rid[:-1] + ("0" if _rid[-1] != "0" else "1")
_RID_PROBLEM = "invalid DebtorListed: subject: resident ID "
content(
    "resident-id-checksum",
    "a resident ID with a wrong check character",
    _with(_base, "subject.id", _wrong_check),
    exact(
        f"{_RID_PROBLEM}{_wrong_check}: check character should be {_rid[-1]}, "
        f"got {_wrong_check[-1]}"
    ),
)
content(
    "resident-id-length",
    "a resident ID of 17 characters",
    _with(_base, "subject.id", _rid[:17]),
    exact(f"{_RID_PROBLEM}{_rid[:17]}: must be 18 characters, got 17"),
)
_feb30 = "36048319800230001"
_feb30 += "X"  # the check character is never reached: the date is checked first
content(
    "resident-id-birth-date",
    "a resident ID born on 1980-02-30",
    _with(_base, "subject.id", _feb30),
    exact(f"{_RID_PROBLEM}{_feb30}: birth date 19800230 is not a real date"),
)
_x_id = next(
    rid
    for n in range(0, 1000, 2)
    if (rid := make_resident_id("110105", date(1949, 12, 31), n))[-1] == "X"
)
_lower_x = _x_id[:-1] + "x"
content(
    "resident-id-lowercase-x",
    "a resident ID ending in a lowercase x",
    _with(_base, "subject", {"kind": "person", "id": _lower_x, "name": "王五"}),
    exact(f"{_RID_PROBLEM}{_lower_x}: check character must be an uppercase X, got lowercase x"),
)
_bad_province = "99" + _rid[2:]
content(
    "resident-id-province",
    "a resident ID whose area code starts with 99, no province",
    _with(_base, "subject.id", _bad_province),
    "^"
    + re.escape(f"{_RID_PROBLEM}{_bad_province}: area code 990483 does not start with a province"),
)
_company = entity(23)
_entity_base = listing("SHAPE-2", _company, kind="entity")
_wrong_uscc = _company[:-1] + ("0" if _company[-1] != "0" else "1")
_USCC_PROBLEM = "invalid DebtorListed: subject: credit code "
content(
    "credit-code-checksum",
    "a credit code with a wrong check character",
    _with(_entity_base, "subject.id", _wrong_uscc),
    exact(
        f"{_USCC_PROBLEM}{_wrong_uscc}: check character should be {_company[-1]}, "
        f"got {_wrong_uscc[-1]}"
    ),
)
_letter_i = _company[:10] + "I" + _company[11:]
content(
    "credit-code-forbidden-letter",
    "a credit code with the letter I, which credit codes never use",
    _with(_entity_base, "subject.id", _letter_i),
    "^" + re.escape(f"{_USCC_PROBLEM}{_letter_i}: character 'I' at position 11 is not allowed"),
)
_org_wrong = _company[:16] + ("0" if _company[16] != "0" else "1") + _company[17]
content(
    "credit-code-org-check",
    "a credit code whose organisation-code check character (position 17) is wrong",
    _with(_entity_base, "subject.id", _org_wrong),
    "^"
    + re.escape(
        f"{_USCC_PROBLEM}{_org_wrong}: organisation code check character at position 17 "
        f"should be {_company[16]}, got {_org_wrong[16]}"
    ),
)
_letters_code = make_credit_code("9", "1", "360483", "MA0000B3")
content(
    "credit-code-for-a-person",
    "a natural person whose id is a credit code",
    _with(_base, "subject.id", _letters_code),
    exact(f"{_RID_PROBLEM}{_letters_code}: character 'M' at position 9 is not a digit"),
)
content(
    "absurdly-long-id",
    "a subject id of 100,000 digits",
    _with(_base, "subject.id", "1" * 100_000),
    invalid("DebtorListed", "subject.id", "String should have at most 64 characters, got 100000"),
)

_CASE = "invalid DebtorListed: case_no: case number "
for slug, about, case_no, problem in [
    (
        "case-no-year",
        "a case number of 1989",
        "(1989)赣0483执12号",
        "year 1989 is outside 1990-2100",
    ),
    (
        "case-no-court-code",
        "a court code with 3 digits",
        "(2024)赣048执12号",
        "court code 赣048 must be a province abbreviation followed by nothing, 2 digits or "
        "4 digits",
    ),
    (
        "case-no-court-unknown",
        "a court code that starts with no province abbreviation",
        "(2024)X0483执12号",
        "court code must start with a province abbreviation or 最高法, got X",
    ),
    (
        "case-no-type-code",
        "an unknown case-type code",
        "(2024)赣0483玩12号",
        "case-type code 玩 is not known",
    ),
    (
        "case-no-sequence-zero",
        "sequence 0",
        "(2024)赣0483执0号",
        "sequence must be a positive number",
    ),
    ("case-no-missing-hao", "no 号 at the end", "(2024)赣0483执12", "must end with 号"),
    (
        "case-no-no-year",
        "no year in parentheses",
        "赣0483执12号",
        "must start with the year in parentheses, e.g. (2024)",
    ),
]:
    content(slug, about, _with(_base, "case_no", case_no), exact(f"{_CASE}{case_no}: {problem}"))

# --- dates and times -----------------------------------------------------------------------------

content(
    "impossible-date",
    "filed_on 2024-02-30",
    _with(_base, "filed_on", "2024-02-30"),
    invalid(
        "DebtorListed",
        "filed_on",
        "Input should be a valid date or datetime, day value is outside expected range, "
        "got '2024-02-30'",
    ),
)
content(
    "date-as-number",
    "filed_on as the number 20240105",
    _with(_base, "filed_on", 20240105),
    invalid("DebtorListed", "filed_on", "must be a date as YYYY-MM-DD, got the number 20240105"),
    raw=False,
)
content(
    "date-not-iso",
    "filed_on as 2024/01/05",
    _with(_base, "filed_on", "2024/01/05"),
    invalid("DebtorListed", "filed_on", "must be a date as YYYY-MM-DD, got '2024/01/05'"),
)
content(
    "impossible-timestamp",
    "occurred_at on 2024-02-30",
    _with(_base, "occurred_at", "2024-02-30T10:00:00+08:00"),
    invalid(
        "DebtorListed",
        "occurred_at",
        "Input should be a valid datetime or date, day value is outside expected range, "
        "got '2024-02-30T10:00:00+08:00'",
    ),
)
content(
    "timestamp-without-offset",
    "occurred_at without a UTC offset",
    _with(_base, "occurred_at", "2024-03-11T10:00:00"),
    invalid(
        "DebtorListed",
        "occurred_at",
        "has no UTC offset, got '2024-03-11T10:00:00' (must be an RFC 3339 timestamp with an "
        "offset, e.g. 2024-03-11T10:00:00+08:00)",
    ),
)
_OFFSET_PROBLEM = "is not a real time zone offset (offsets run from -12:00 to +14:00)"
content(
    "absurd-offset",
    "occurred_at at +25:00",
    _with(_base, "occurred_at", "2024-03-11T10:00:00+25:00"),
    invalid("DebtorListed", "occurred_at", f"UTC offset +25:00 {_OFFSET_PROBLEM}"),
)
content(
    "offset-beyond-real-zones",
    "served_at at -13:00 (no time zone is that far west)",
    event("RiskWarningIssued", "TIME-1", EARLIER, served_at="2024-03-01T10:00:00-13:00"),
    invalid("RiskWarningIssued", "served_at", f"UTC offset -13:00 {_OFFSET_PROBLEM}"),
)
content(
    "timestamp-as-epoch-seconds",
    "occurred_at as seconds since 1970 (no offset, no RFC 3339)",
    _with(_base, "occurred_at", "1710122400"),
    invalid(
        "DebtorListed",
        "occurred_at",
        "must be an RFC 3339 timestamp with a UTC offset, e.g. 2024-03-11T10:00:00+08:00, "
        "got the number '1710122400'",
    ),
)
content(
    "timestamp-as-words",
    "decision_served_at as words",
    _with(_base, "decision_served_at", "yesterday"),
    "^"
    + re.escape("invalid DebtorListed: decision_served_at: Input should be a valid datetime")
    + ".*got 'yesterday'$",
)

# --- the lists of the contract -------------------------------------------------------------------

content(
    "unknown-exit-ground",
    "ObligationPerformed on ground 'paid', which is no exit ground",
    performed("GROUND-1", ground="paid"),
    "^"
    + re.escape("invalid ObligationPerformed: ground: Input should be 'performed', ")
    + ".*got 'paid'$",
)
content(
    "revocation-ground-for-shield",
    "ListingShielded on wrongly_listed, a ground only a revocation has",
    shielding("GROUND-2", ground="wrongly_listed"),
    "^"
    + re.escape("invalid ListingShielded: ground: Input should be 'performed', ")
    + ".*got 'wrongly_listed'$",
)
content(
    "unknown-subject-kind",
    "a subject of kind robot",
    _with(_base, "subject.kind", "robot"),
    invalid("DebtorListed", "subject.kind", "Input should be 'person' or 'entity', got 'robot'"),
)
content(
    "unknown-performance",
    "performance 'full' (a listed debtor has performed none or part)",
    _with(_base, "performance", "full"),
    invalid("DebtorListed", "performance", "Input should be 'none' or 'partial', got 'full'"),
)
content(
    "unknown-related-role",
    "a related person in the role 'friend'",
    _with(_entity_base, "related_persons", [{"role": "friend", "id": person(25), "name": "赵六"}]),
    "^"
    + re.escape("invalid DebtorListed: related_persons.0.role: Input should be ")
    + ".*got 'friend'$",
)
content(
    "ground-zero",
    "listing ground 0",
    _with(_base, "grounds", [0]),
    invalid("DebtorListed", "grounds.0", "Input should be greater than or equal to 1, got 0"),
)
content(
    "ground-seven",
    "listing ground 7",
    _with(_base, "grounds", [1, 7]),
    invalid("DebtorListed", "grounds.1", "Input should be less than or equal to 6, got 7"),
)
content(
    "grounds-repeated",
    "listing ground 2 twice",
    _with(_base, "grounds", [2, 1, 2]),
    invalid("DebtorListed", "grounds", "ground 2 is listed 2 times; each ground may appear once"),
)
content(
    "grounds-empty",
    "no listing ground",
    _with(_base, "grounds", []),
    invalid("DebtorListed", "grounds", "must list at least one listing ground (1-6)"),
)
content(
    "correction-grounds-repeated",
    "a correction that sets grounds [3, 3]",
    correction("GROUND-3", {"grounds": [3, 3]}),
    invalid(
        "ListingCorrected",
        "changes.grounds",
        "ground 3 is listed 2 times; each ground may appear once",
    ),
)

# --- the subject and related persons -------------------------------------------------------------

content(
    "sex-disagrees-with-id",
    "sex female for a resident ID of a man",
    _with(_base, "subject.sex", "female"),
    invalid(
        "DebtorListed", "subject", "sex female does not match the resident ID (which says male)"
    ),
)
content(
    "birth-date-disagrees-with-id",
    "a birth date one day off the resident ID's",
    _with(_base, "subject.birth_date", "1980-05-18"),
    invalid(
        "DebtorListed",
        "subject",
        "birth_date 1980-05-18 does not match the resident ID (which says 1980-05-17)",
    ),
)
content(
    "person-with-legal-representative",
    "a natural person with a legal representative",
    _with(_base, "subject.legal_representative", "李四"),
    invalid(
        "DebtorListed",
        "subject",
        "legal_representative is for entities only, but the subject is a person",
    ),
)
content(
    "entity-with-sex",
    "an entity with a sex",
    _with(_entity_base, "subject.sex", "male"),
    invalid("DebtorListed", "subject", "sex is for persons only, but the subject is an entity"),
)
content(
    "entity-with-birth-date",
    "an entity with a birth date",
    _with(_entity_base, "subject.birth_date", "2001-01-01"),
    invalid(
        "DebtorListed", "subject", "birth_date is for persons only, but the subject is an entity"
    ),
)
_own = person(27)
content(
    "related-person-is-the-debtor",
    "a related person with the debtor's own resident ID",
    listing(
        "REL-1",
        _own,
        related_persons=[
            {"role": "principal", "id": person(29), "name": "钱七"},
            {"role": "actual_controller", "id": _own, "name": "张三"},
        ],
    ),
    exact(
        f"invalid DebtorListed: related_persons.1.id {_own} is the debtor's own resident ID: "
        "a natural person debtor cannot also be their own related person"
    ),
)
_related_bad = person(31)[:-1] + ("0" if person(31)[-1] != "0" else "1")
content(
    "related-person-id-checksum",
    "a related person whose resident ID has a wrong check character",
    _with(
        _entity_base,
        "related_persons",
        [{"role": "legal_representative", "id": _related_bad, "name": "李四"}],
    ),
    "^"
    + re.escape(
        f"invalid DebtorListed: related_persons.0.id: resident ID {_related_bad}: check "
        "character should be "
    ),
)
content(
    "correction-changes-nothing",
    "a correction whose changes are empty",
    correction("CORR-1", {}),
    invalid(
        "ListingCorrected",
        "changes",
        "a correction must change at least one field (changes is empty or all null)",
    ),
)
content(
    "correction-all-null",
    "a correction whose changes are all null",
    correction("CORR-2", {"obligation": None, "subject": None, "public": None}),
    invalid(
        "ListingCorrected",
        "changes",
        "a correction must change at least one field (changes is empty or all null)",
    ),
    raw=False,  # the Avro record of changes has no such nulls to write
)

# --- names and text ------------------------------------------------------------------------------


def _name_case(
    slug: str, about: str, name: str, problem: str, *, where: str = "subject.name", **kw: Any
) -> None:
    record = _with(_base, where, name)
    content(slug, about, record, invalid("DebtorListed", where, problem), **kw)


_name_case(
    "name-10000-chars",
    "a name of 10,000 characters",
    "张" * 10_000,
    "String should have at most 200 characters, got 10000",
)
content(
    "obligation-1mb",
    "an obligation text of 1 MB (1,000,000 characters)",
    _with(_base, "obligation", "债" * 10 + "x" * 999_990),
    invalid(
        "DebtorListed", "obligation", "String should have at most 2000 characters, got 1000000"
    ),
)
_name_case("name-empty", "an empty name", "", "String should have at least 1 character")
_name_case(
    "name-whitespace-only",
    "a name of three spaces",
    "   ",
    "must not be blank (it has only whitespace)",
)
_name_case(
    "name-ideographic-space-only",
    "a name of two ideographic spaces (U+3000)",
    "\u3000\u3000",
    "must not be blank (it has only whitespace)",
)
_name_case(
    "name-nul",
    "a NUL inside a name",
    "张\x00三",
    "contains the control character U+0000 (NULL) at position 2",
)
_name_case(
    "name-escape-sequence",
    "an ANSI escape sequence in a name",
    "\x1b[31m张三",
    "contains the control character U+001B (ESCAPE) at position 1",
)
content(
    "name-newline",
    "a line feed inside the legal representative's name",
    _with(_entity_base, "subject.legal_representative", "李\n四"),
    invalid(
        "DebtorListed",
        "subject.legal_representative",
        "contains the control character U+000A (LINE FEED) at position 2",
    ),
)
_name_case(
    "name-c1-control",
    "the C1 control NEXT LINE (U+0085) in a name",
    "张\x85三",
    "contains the control character U+0085 (NEXT LINE) at position 2",
)
_name_case(
    "name-line-separator",
    "U+2028 LINE SEPARATOR in a name",
    "张\u2028三",
    "contains the line break U+2028 (LINE SEPARATOR) at position 2",
)
_name_case(
    "name-paragraph-separator",
    "U+2029 PARAGRAPH SEPARATOR in a name",
    "张三\u2029",
    "contains the line break U+2029 (PARAGRAPH SEPARATOR) at position 3",
)
_name_case(
    "name-zero-width-space",
    "a zero-width space in a name",
    "张\u200b三",
    "contains the invisible formatting character U+200B (ZERO WIDTH SPACE) at position 2",
)
_name_case(
    "name-bidi-override",
    "a right-to-left override in a name (text that displays reversed)",
    "\u202e三张",
    "contains the invisible formatting character U+202E (RIGHT-TO-LEFT OVERRIDE) at position 1",
)
_name_case(
    "name-byte-order-mark",
    "a byte order mark at the start of a name",
    "\ufeff张三",
    "contains the invisible formatting character U+FEFF (ZERO WIDTH NO-BREAK SPACE) at position 1",
)
_name_case(
    "name-replacement-character",
    "U+FFFD in a name: it was decoded with errors before it was sent",
    "张\ufffd\ufffd",
    "contains the replacement character U+FFFD (REPLACEMENT CHARACTER) at position 2: the text "
    "was mis-decoded before it was sent",
)
_name_case(
    "name-noncharacter",
    "the noncharacter U+FFFF in a name",
    "张\uffff",
    "contains the Unicode noncharacter U+FFFF at position 2",
)
_name_case(
    "name-mojibake-latin-1",
    "张三 as UTF-8 bytes mis-decoded as Latin-1",
    "张三".encode().decode("latin-1"),
    "looks like UTF-8 text mis-decoded as Latin-1 (mojibake): decoded correctly it reads '张三'",
)
_name_case(
    "name-mojibake-cp1252",
    "王五 as UTF-8 bytes mis-decoded as Windows-1252",
    "王五".encode().decode("cp1252"),
    "looks like UTF-8 text mis-decoded as Windows-1252 (mojibake): decoded correctly it "
    "reads '王五'",
)
_name_case(
    "name-lone-surrogate",
    'a lone surrogate in a name, written in JSON as "\\ud800"',
    "张\ud800",
    "contains the lone surrogate U+D800 at position 2, which is not a Unicode character "
    "(a broken UTF-16 escape)",
    raw=False,  # no UTF-8 encoder writes it: see lone-surrogate-in-avro-string
    ascii_only=True,
)
_surrogate_placeholder = listing("TEXT-1", person(33), subject={"name": "张@@@"})
garbage(
    "lone-surrogate-in-avro-string",
    "a name with a lone surrogate encoded as UTF-8 bytes (ED A0 80), which UTF-8 forbids",
    _splice(avro(_surrogate_placeholder), b"@@@", b"\xed\xa0\x80"),
    "^"
    + re.escape(f"truncated or corrupt {_BODY_OF}: UnicodeDecodeError: ")
    + r".*can't decode byte 0xed",
)
content(
    "court-name-control",
    "a TAB in the court's name",
    _with(_base, "court.name", "庐山市\t人民法院"),
    invalid(
        "DebtorListed", "court.name", "contains the control character U+0009 (TAB) at position 4"
    ),
)
content(
    "reason-newline",
    "a correction reason with a carriage return",
    {**correction("TEXT-2", {"public": False}), "reason": "更正\r身份证号"},
    invalid(
        "ListingCorrected",
        "reason",
        "contains the control character U+000D (CARRIAGE RETURN) at position 3",
    ),
)

# --- keys ----------------------------------------------------------------------------------------

_KEY_PROBLEM = "is not allowed (ids use only the ASCII letters and digits and _ . : -)"
content(
    "entry-id-with-space",
    "an entry_id with a space",
    listing("A 1", person(35)),
    invalid("DebtorListed", "entry_id", f"character ' ' at position 2 {_KEY_PROBLEM}"),
)
content(
    "entry-id-with-slash",
    "an entry_id with a slash",
    listing("2024/A1", person(37)),
    invalid("DebtorListed", "entry_id", f"character '/' at position 5 {_KEY_PROBLEM}"),
)
content(
    "entry-id-too-long",
    "an entry_id of 65 characters",
    listing("E" * 65, person(39)),
    invalid("DebtorListed", "entry_id", "String should have at most 64 characters, got 65"),
)
content(
    "court-code-chinese",
    "a court code in Chinese characters",
    _with(_base, "court.code", "赣0483"),
    invalid("DebtorListed", "court.code", f"character '赣' at position 1 {_KEY_PROBLEM}"),
)

# --- the lifecycle (raw form only: `shixin publish` validates lines, it does not fold them) ------

_W = warning("LIFE-1")
lifecycle(
    "shield-before-list",
    "ListingShielded of an entry that was only warned",
    [_W],
    shielding("LIFE-1"),
    exact("ListingShielded is not allowed for entry LIFE-1 in state warned"),
    "warned",
)
_L2 = listing("LIFE-2", person(41))
lifecycle(
    "list-twice",
    "a second DebtorListed of a listed entry",
    [_L2],
    listing("LIFE-2", person(41), at=LATER),
    exact("DebtorListed is not allowed for entry LIFE-2 in state listed"),
    "listed",
)
lifecycle(
    "warn-after-list",
    "a risk warning for an entry already listed",
    [listing("LIFE-3", person(43))],
    warning("LIFE-3", at=LATER),
    exact("RiskWarningIssued is not allowed for entry LIFE-3 in state listed"),
    "listed",
)
lifecycle(
    "reject-without-request",
    "CorrectionRejected with no correction requested",
    [listing("LIFE-4", person(45))],
    rejection("LIFE-4"),
    exact("CorrectionRejected for entry LIFE-4, which has no pending correction request"),
    "listed",
)
lifecycle(
    "correction-after-revocation",
    "ListingCorrected of a revoked entry",
    [listing("LIFE-5", person(47)), revocation("LIFE-5", at="2024-03-15T10:00:00+08:00")],
    correction("LIFE-5", {"public": False}),
    exact("ListingCorrected is not allowed for entry LIFE-5 in state revoked"),
    "revoked",
)
lifecycle(
    "revoke-after-shield",
    "ListingRevoked of an entry already shielded",
    [listing("LIFE-6", person(49)), shielding("LIFE-6", at="2024-03-15T10:00:00+08:00")],
    revocation("LIFE-6"),
    exact("ListingRevoked is not allowed for entry LIFE-6 in state shielded"),
    "shielded",
)
lifecycle(
    "older-than-last-event",
    "ObligationPerformed dated before the entry's listing",
    [listing("LIFE-7", person(51))],
    performed("LIFE-7", at=EARLIER),
    exact(f"ObligationPerformed at {EARLIER} is earlier than the entry's last event at {AT}"),
    "listed",
)
lifecycle(
    "unknown-entry",
    "ObligationPerformed for an entry no court ever listed",
    [],
    performed("LIFE-8"),
    exact("ObligationPerformed for entry LIFE-8, which was never listed"),
    None,
)
_L9 = listing("LIFE-9", person(53))
_reused = {**performed("LIFE-9"), "event_id": _L9["event_id"]}


def _duplicate_of_first(entry_id: str, eid: str) -> Callable[[str, int, list[int]], str]:
    def reason(topic: str, partition: int, offsets: list[int]) -> str:
        return exact(
            f"duplicate event {eid}: already applied to entry {entry_id} from "
            f"{topic}/{partition}@{offsets[0]}"
        )

    return reason


lifecycle(
    "duplicate-id-other-content",
    "an ObligationPerformed reusing the event id of the entry's listing",
    [_L9],
    _reused,
    _duplicate_of_first("LIFE-9", _L9["event_id"]),
    "listed",
)
_L10 = listing("LIFE-10", person(55))
lifecycle(
    "duplicate-same-content",
    "the entry's listing again, byte for byte, at a later offset",
    [_L10],
    _L10,
    _duplicate_of_first("LIFE-10", _L10["event_id"]),
    "listed",
)


def raw_cases() -> list[BadInput]:
    return [c for c in CASES if c.has_raw]


def live_cases() -> list[BadInput]:
    """Raw cases the live pipeline handles (no known gap)."""
    return [c for c in raw_cases() if c.live_gap is None]


def live_gap_cases() -> list[BadInput]:
    return [c for c in raw_cases() if c.live_gap is not None]


def json_cases() -> list[BadInput]:
    return [c for c in CASES if c.has_json]


# Valid input that looks unusual and must stay valid (names up to 200 characters; the middle
# dot of transliterated names; full-width forms; rare characters beyond the BMP and in the
# private use area; other scripts, with the joiners they need).
VALID_NAMES: list[str] = [
    "阿依古丽·买买提",
    "爱新觉罗·溥仪",
    "买买提·艾力",
    "扎西顿珠",
    "ＡＢＣ贸易有限公司",
    "（香港）某某有限公司",
    "𠮷野家餐饮有限公司",
    "王\ue000",
    "John Smith",
    "José Müller-Lüdenscheidt",
    "Nguyễn Văn An",
    "O'Brien",
    "ᠪᠠᠲᠦ",
    "ئابدۇرېھىم",
    "بی\u200cنام",
    "ब्रज\u200dकिशोर",
    "བཀྲ་ཤིས་",
    "张" * 200,
]
VALID_TIMESTAMPS: list[str] = [
    "2024-03-11T10:00:00+08:00",
    "2024-03-11T02:00:00Z",
    "2024-03-11T02:00:00.123456+00:00",
    "2024-03-10T21:00:00-05:00",
    "2024-03-11T07:45:00+05:45",
    "2024-03-11T16:00:00+14:00",
    "2024-03-10T14:00:00-12:00",
    "2024-03-11T10:00+08:00",
]
