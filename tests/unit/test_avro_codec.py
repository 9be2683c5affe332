"""The Avro single-object codec: round trips of every event, interoperability with the Apache
Avro reference implementation, every DecodeError, and fuzzing."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import avro.io
import avro.schema
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shixin.domain import events as ev
from shixin.domain.identifiers import make_resident_id
from shixin.schemas import (
    DEAD_LETTER_RECORD,
    DeadLetter,
    DecodeError,
    EncodeError,
    decode,
    decode_dead_letter,
    decode_event,
    default_registry,
    encode,
    encode_model,
    record_name_of,
    schema_root,
    to_record,
)

CST = timezone(timedelta(hours=8))
PERSON_ID = "11010519491231002X"  # female, born 1949-12-31
CREDIT_CODE = "91350100M000100Y43"
CASE_NO = "(2024)赣0483执123号"
COURT = ev.Court(code="J36-0483", name="江西省共青城市人民法院")
RELATED_ID = make_resident_id("360483", date(1978, 3, 9), 215)  # a man


def _common(n: int, occurred_at: datetime, entry: str = "E-2024-0001") -> dict[str, Any]:
    return {
        "event_id": UUID(int=0x5EED0000 + n),
        "entry_id": entry,
        "case_no": CASE_NO,
        "court": COURT,
        "occurred_at": occurred_at,
    }


def sample_events() -> list[ev.CourtEvent | ev.SanctionEvent]:
    """One realistic instance of every event type (two of DebtorListed: person and entity)."""
    person = ev.Subject(
        kind="person", id=PERSON_ID, name="王秀英", sex="female", birth_date=date(1949, 12, 31)
    )
    entity = ev.Subject(
        kind="entity", id=CREDIT_CODE, name="福州闽江建材有限公司", legal_representative="陈建国"
    )
    related = (
        ev.RelatedPerson(role="legal_representative", id=RELATED_ID, name="陈建国"),
        ev.RelatedPerson(role="actual_controller", id=None, name="林海"),
    )
    basis = ev.Basis(doc_no="(2023)赣0483民初456号", issuer="江西省共青城市人民法院")
    return [
        ev.RiskWarningIssued(
            **_common(1, datetime(2024, 3, 1, 9, 30, tzinfo=CST)),
            served_at=datetime(2024, 3, 1, 10, 0, tzinfo=CST),
        ),
        ev.DebtorListed(
            **_common(2, datetime(2024, 3, 20, 1, 15, 30, 123456, tzinfo=UTC)),
            subject=person,
            grounds=(1, 3),
            basis=basis,
            obligation="支付货款人民币128,000元及利息",
            performance="partial",
            performed_part="已支付30,000元",
            unperformed_part="尚欠98,000元及利息",
            filed_on=date(2024, 1, 5),
            decision_served_at=datetime(2024, 3, 21, 15, 0, tzinfo=CST),
            public=False,
        ),
        ev.DebtorListed(
            **_common(3, datetime(2024, 4, 2, 16, 45, tzinfo=CST), entry="E-2024-0002"),
            subject=entity,
            related_persons=related,
            grounds=(2,),
            term_ends_on=date(2026, 4, 2),
            basis=basis,
            obligation="返还借款500,000元",
            performance="none",
            filed_on=date(2024, 2, 1),
            recorded_at=datetime(2024, 4, 2, 16, 45, 1, tzinfo=CST),
        ),
        ev.ListingCorrected(
            **_common(4, datetime(2024, 5, 6, 8, 0, tzinfo=timezone(timedelta(hours=-5)))),
            changes=ev.ListingChanges(
                subject=entity,
                related_persons=related[:1],
                grounds=(2, 5),
                public=True,
                decision_served_at=datetime(2024, 3, 22, 9, 0, tzinfo=CST),
            ),
            reason="被执行人名称登记错误",
        ),
        ev.ObligationPerformed(
            **_common(5, datetime(2024, 6, 1, 11, 0, tzinfo=CST)), ground="settlement_performed"
        ),
        ev.CorrectionRequested(
            **_common(6, datetime(2024, 3, 25, 14, 0, tzinfo=CST)),
            received_at=datetime(2024, 3, 25, 13, 50, tzinfo=CST),
            grounds="已在纳入前全部履行完毕,附银行回单",
        ),
        ev.CorrectionRejected(
            **_common(7, datetime(2024, 3, 27, 17, 0, tzinfo=CST)),
            reason="申请人提交的回单与本案无关",
        ),
        ev.ListingShielded(
            **_common(8, datetime(2024, 6, 3, 9, 0, tzinfo=CST)), ground="performed"
        ),
        ev.ListingRevoked(
            **_common(9, datetime(2024, 6, 4, 9, 0, tzinfo=CST)), ground="wrongly_listed"
        ),
        ev.SanctionsApplied(
            event_id=UUID(int=0xFEED0001),
            department="caac",
            subject_id=PERSON_ID,
            measures=("consume.air_ticket", "consume.g_train"),
            entry_ids=("E-2024-0001",),
            at=datetime(2024, 3, 20, 9, 16, tzinfo=CST),
        ),
        ev.SanctionsLifted(
            event_id=UUID(int=0xFEED0002),
            department="nra",
            subject_id=CREDIT_CODE,
            measures=("consume.g_train",),
            at=datetime(2024, 6, 4, 10, 0, tzinfo=UTC),
            origin="person",
        ),
        ev.SanctionsRetained(
            event_id=UUID(int=0xFEED0003),
            department="ndrc",
            subject_id=CREDIT_CODE,
            measures=("finance.bond_issue",),
            entry_ids=("E-2024-0002", "E-2023-0417"),
            at=datetime(2024, 6, 4, 10, 30, tzinfo=CST),
            legal_basis="《关于对失信被执行人实施联合惩戒的合作备忘录》第二条",
            until=date(2025, 6, 4),
        ),
    ]


SAMPLES = sample_events()
IDS = [f"{i}-{type(e).__name__}" for i, e in enumerate(SAMPLES)]


def _first(model_type: type[Any]) -> Any:
    return next(e for e in SAMPLES if type(e) is model_type)


def test_samples_cover_every_event_type() -> None:
    covered = {type(e) for e in SAMPLES}
    assert covered == set(ev.COURT_EVENT_TYPES) | set(ev.SANCTION_EVENT_TYPES)


@pytest.mark.parametrize("event", SAMPLES, ids=IDS)
def test_round_trip_equals_the_original(event: ev.CourtEvent | ev.SanctionEvent) -> None:
    data = encode_model(event)
    decoded = decode_event(data)
    assert type(decoded) is type(event)
    assert decoded == event
    # datetime equality ignores the offset; the JSON form shows it
    assert decoded.model_dump(mode="json") == event.model_dump(mode="json")


@pytest.mark.parametrize("event", SAMPLES, ids=IDS)
def test_header_and_record_name(event: ev.CourtEvent | ev.SanctionEvent) -> None:
    data = encode_model(event)
    namespace = (
        "cn.shixin.court.v1" if isinstance(event, ev._CourtEventBase) else ("cn.shixin.sanction.v1")
    )
    name = f"{namespace}.{event.type}"
    assert record_name_of(type(event)) == name
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == default_registry().current(name).fingerprint
    decoded_name, record = decode(data)
    assert decoded_name == name
    assert record == to_record(event)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (UTC, timedelta(0)),
        (timezone(timedelta(0)), timedelta(0)),
        (CST, timedelta(hours=8)),
        (timezone(timedelta(hours=5, minutes=45)), timedelta(hours=5, minutes=45)),
        (timezone(-timedelta(hours=3, minutes=30)), -timedelta(hours=3, minutes=30)),
    ],
)
def test_the_offset_of_occurred_at_survives(offset: timezone, expected: timedelta) -> None:
    occurred_at = datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=offset)
    event = ev.RiskWarningIssued.model_validate(
        {**_first(ev.RiskWarningIssued).model_dump(), "occurred_at": occurred_at}
    )
    decoded = decode_event(encode_model(event))
    assert isinstance(decoded, ev.RiskWarningIssued)
    assert decoded.occurred_at.utcoffset() == expected
    assert decoded.occurred_at == event.occurred_at
    assert decoded.occurred_at.replace(tzinfo=None) == event.occurred_at.replace(tzinfo=None)


def test_on_the_wire_timestamps_are_the_json_form() -> None:
    _, record = decode(encode_model(SAMPLES[1]))
    assert record["occurred_at"] == SAMPLES[1].model_dump(mode="json")["occurred_at"]
    assert record["decision_served_at"] == "2024-03-21T15:00:00+08:00"
    assert record["filed_on"] == "2024-01-05"
    assert record["event_id"] == str(SAMPLES[1].event_id)


def test_dead_letter_round_trip_keeps_arbitrary_bytes() -> None:
    letter = DeadLetter(
        event_id=None,
        reason="not Avro single-object encoding: expected C3 01, got 7B 22",
        topic="court.events",
        partition=7,
        offset=2**40 + 3,
        original=b'{"not": "avro"}\xff\x00\xc3',
        at=datetime(2024, 3, 20, 9, 16, 0, tzinfo=CST),
    )
    data = encode_model(letter)
    assert data[2:10] == default_registry().current(DEAD_LETTER_RECORD).fingerprint
    back = decode_dead_letter(data)
    assert back == letter
    assert back.at.utcoffset() == timedelta(hours=8)
    name, record = decode(data)
    assert name == DEAD_LETTER_RECORD
    assert record["original"] == letter.original
    # the JSON form of the model carries the bytes as base64
    assert DeadLetter.model_validate_json(letter.model_dump_json()) == letter


# --- the Apache Avro reference implementation ----------------------------------------------


def _avsc_files() -> list[Path]:
    return sorted(Path(str(schema_root())).rglob("*.avsc"))


def _reference_schemas() -> dict[bytes, avro.schema.Schema]:
    out = {}
    for path in _avsc_files():
        schema = avro.schema.parse(path.read_text(encoding="utf-8"))
        out[schema.fingerprint("CRC-64-AVRO")] = schema
    return out


@pytest.mark.parametrize("event", SAMPLES, ids=IDS)
def test_the_reference_implementation_decodes_our_bytes(
    event: ev.CourtEvent | ev.SanctionEvent,
) -> None:
    data = encode_model(event)
    # a reader with nothing but the .avsc files: find the schema by the header's fingerprint
    schema = _reference_schemas()[data[2:10]]
    body = io.BytesIO(data[10:])
    record = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(body))
    assert body.tell() == len(data) - 10
    assert record == to_record(event)
    assert type(event).model_validate(record) == event


def test_the_reference_implementation_decodes_a_dead_letter() -> None:
    letter = DeadLetter(
        event_id="abc",
        reason="r",
        topic="t",
        partition=0,
        offset=1,
        original=b"\x00\xff",
        at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    data = encode_model(letter)
    schema = _reference_schemas()[data[2:10]]
    record = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(data[10:])))
    assert record == to_record(letter)


@pytest.mark.parametrize("event", SAMPLES, ids=IDS)
def test_we_decode_what_the_reference_implementation_writes(
    event: ev.CourtEvent | ev.SanctionEvent,
) -> None:
    name = record_name_of(type(event))
    path = Path(str(schema_root())) / name.rsplit(".", 1)[0] / f"{name.rsplit('.', 1)[1]}.avsc"
    schema = avro.schema.parse(path.read_text(encoding="utf-8"))
    body = io.BytesIO()
    record = json.loads(json.dumps(to_record(event)))
    avro.io.DatumWriter(schema).write(record, avro.io.BinaryEncoder(body))
    data = b"\xc3\x01" + schema.fingerprint("CRC-64-AVRO") + body.getvalue()
    assert data == encode_model(event)
    assert decode_event(data) == event


# --- every DecodeError -----------------------------------------------------------------------


def _debtor_listed_bytes() -> bytes:
    return encode_model(SAMPLES[2])


def _decode_error(data: Any) -> DecodeError:
    with pytest.raises(DecodeError) as info:
        decode(data)
    assert info.value.reason == str(info.value)
    return info.value


@pytest.mark.parametrize(
    "data",
    [b"", b"\xc3", b"\xc3\x01", b"\xc3\x01\x00\x00\x00\x00\x00\x00\x00", b"{}"],
)
def test_too_short(data: bytes) -> None:
    reason = _decode_error(data).reason
    assert reason.startswith("not Avro single-object encoding: expected C3 01, got ")
    assert f"{len(data)} byte" in reason


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        (b'{"event_id": "x", "type": "DebtorListed"}', "7B 22"),
        (b"\x00\x00" + b"\x00" * 20, "00 00"),
        (b"\xc3\x02" + b"\x00" * 20, "C3 02"),
        (b"\x01\xc3" + b"\x00" * 20, "01 C3"),
    ],
)
def test_wrong_magic(data: bytes, shown: str) -> None:
    reason = _decode_error(data).reason
    assert reason.startswith(f"not Avro single-object encoding: expected C3 01, got {shown}")


def test_unknown_fingerprint() -> None:
    data = b"\xc3\x01" + bytes.fromhex("1122334455667788") + b"\x00\x02ab"
    error = _decode_error(data)
    assert error.reason == "unknown writer schema fingerprint 0x1122334455667788"
    assert error.record_name is None


def test_fingerprint_message_matches_fastavro_notation() -> None:
    entry = default_registry().current("cn.shixin.court.v1.DebtorListed")
    import fastavro.schema

    assert entry.fingerprint_hex == "0x" + fastavro.schema.fingerprint(
        entry.canonical_form, "CRC-64-AVRO"
    )


@pytest.mark.parametrize("cut", [1, 5, 40])
def test_truncated_body(cut: int) -> None:
    error = _decode_error(_debtor_listed_bytes()[:-cut])
    assert error.reason.startswith(
        "truncated or corrupt Avro body for cn.shixin.court.v1.DebtorListed: "
    )
    assert error.record_name == "cn.shixin.court.v1.DebtorListed"


def test_header_only() -> None:
    error = _decode_error(_debtor_listed_bytes()[:10])
    assert error.reason.startswith("truncated or corrupt Avro body for cn.shixin.court.v1.")


@pytest.mark.parametrize("extra", [b"\x00", b"\x00\x01\x02", b"garbage!" * 10])
def test_trailing_bytes(extra: bytes) -> None:
    error = _decode_error(_debtor_listed_bytes() + extra)
    assert error.reason == (
        f"{len(extra)} trailing bytes after the Avro body of cn.shixin.court.v1.DebtorListed"
    )


def _zigzag(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    z &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = z & 0x7F
        z >>= 7
        if z:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


@pytest.mark.parametrize("length", [2**62, 2**31, 10_000, 41, -1, -(2**63)])
def test_a_length_prefix_beyond_the_message_is_a_decode_error(length: int) -> None:
    header = _debtor_listed_bytes()[:10]
    data = header + _zigzag(length) + b"0123456789abcdef0123456789abcdef"
    error = _decode_error(data)
    assert error.reason.startswith("truncated or corrupt Avro body for cn.shixin.court.v1.")


def test_a_huge_array_count_is_a_decode_error() -> None:
    # SanctionsApplied: event_id, department, subject_id, then measures (array of strings)
    event = _first(ev.SanctionsApplied)
    good = encode_model(event)
    _, record = decode(good)
    prefix = good[:10] + b"".join(
        _zigzag(len(record[f].encode())) + record[f].encode()
        for f in ("event_id", "department", "subject_id")
    )
    assert good.startswith(prefix)
    for count in (2**62, -(2**62)):
        _decode_error(prefix + _zigzag(count) + b"\x02a" * 4)


def test_invalid_utf8_in_a_string() -> None:
    data = _debtor_listed_bytes()[:10] + _zigzag(2) + b"\xff\xfe" + b"\x00" * 40
    assert "UnicodeDecodeError" in _decode_error(data).reason


def test_a_union_branch_out_of_range() -> None:
    event = _first(ev.RiskWarningIssued)  # ..., occurred_at, recorded_at (a union), ...
    good = encode_model(event)
    recorded_at_index = good.index(event.model_dump(mode="json")["occurred_at"].encode())
    position = recorded_at_index + len(event.model_dump(mode="json")["occurred_at"])
    assert good[position] == 0  # null branch
    bad = good[:position] + _zigzag(7) + good[position + 1 :]
    _decode_error(bad)


@pytest.mark.parametrize("value", [None, "C3 01", 12, [0xC3, 0x01]])
def test_not_bytes(value: Any) -> None:
    assert _decode_error(value).reason.startswith("expected bytes, got ")


def test_bytearray_and_memoryview_are_accepted() -> None:
    data = _debtor_listed_bytes()
    assert decode(bytearray(data)) == decode(data)
    assert decode(memoryview(data)) == decode(data)


def test_decode_event_refuses_a_record_that_is_not_an_event() -> None:
    letter = DeadLetter(
        reason="x", topic="t", partition=0, offset=0, original=b"", at=datetime.now(UTC)
    )
    with pytest.raises(DecodeError, match="is not a court or sanction event"):
        decode_event(encode_model(letter))


def test_decode_event_refuses_a_type_that_disagrees_with_the_record_name() -> None:
    performed = _first(ev.ObligationPerformed)
    # ListingShielded has the same fields: only the name/type check tells them apart
    data = encode("cn.shixin.court.v1.ListingShielded", to_record(performed))
    with pytest.raises(DecodeError, match="carries type 'ObligationPerformed'"):
        decode_event(data)


def test_a_valid_message_with_invalid_content_is_a_validation_error() -> None:
    record = to_record(SAMPLES[1])
    record["subject"] = {**record["subject"], "id": "110105194912310021"}  # bad check digit
    data = encode("cn.shixin.court.v1.DebtorListed", record)
    assert decode(data)[1]["subject"]["id"] == "110105194912310021"  # decodes fine
    with pytest.raises(pydantic.ValidationError):
        decode_event(data)


# --- encoding errors -------------------------------------------------------------------------


def test_encode_unknown_record() -> None:
    with pytest.raises(EncodeError, match="no Avro schema registered"):
        encode("cn.shixin.court.v1.Nope", {})


def test_encode_rejects_unknown_fields_and_wrong_types() -> None:
    record = to_record(SAMPLES[0])
    with pytest.raises(EncodeError):
        encode("cn.shixin.court.v1.RiskWarningIssued", {**record, "surprise": 1})
    with pytest.raises(EncodeError):
        encode("cn.shixin.court.v1.RiskWarningIssued", {**record, "served_at": 12})
    missing = dict(record)
    del missing["served_at"]
    with pytest.raises(EncodeError):
        encode("cn.shixin.court.v1.RiskWarningIssued", missing)


def test_encode_fills_defaults_for_missing_fields() -> None:
    record = to_record(SAMPLES[0])
    del record["recorded_at"]
    del record["type"]
    data = encode("cn.shixin.court.v1.RiskWarningIssued", record)
    assert decode_event(data) == SAMPLES[0]


def test_encode_model_of_an_unbound_model() -> None:
    class Stray(pydantic.BaseModel):
        x: int

    with pytest.raises(EncodeError, match="no Avro record bound to Stray"):
        encode_model(Stray(x=1))


# --- fuzzing -----------------------------------------------------------------------------------

VALID = [encode_model(e) for e in SAMPLES]
FINGERPRINTS = sorted(
    v.fingerprint for n in default_registry().names() for v in default_registry().versions(n)
)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decode_only_raises_decode_error(data: bytes) -> None:
    try:
        name, record = decode(data)
    except DecodeError as error:
        assert error.reason
        return
    assert isinstance(name, str)
    assert isinstance(record, dict)


def _decode_event_raises_only_the_two_errors(data: bytes) -> None:
    with contextlib.suppress(DecodeError, pydantic.ValidationError):
        decode_event(data)


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(data: bytes) -> None:
    _decode_only_raises_decode_error(data)
    _decode_only_raises_decode_error(b"\xc3\x01" + data)


@FUZZ
@given(st.sampled_from(FINGERPRINTS), st.binary(max_size=600))
def test_fuzz_known_header_random_body(fingerprint: bytes, body: bytes) -> None:
    data = b"\xc3\x01" + fingerprint + body
    _decode_only_raises_decode_error(data)
    _decode_event_raises_only_the_two_errors(data)


@FUZZ
@given(st.sampled_from(VALID), st.data())
def test_fuzz_truncation_is_always_a_decode_error(valid: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(valid) - 1))
    with pytest.raises(DecodeError):
        decode(valid[:cut])


@FUZZ
@given(
    st.sampled_from(VALID),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)), min_size=1, max_size=6),
)
def test_fuzz_byte_flips(valid: bytes, flips: list[tuple[int, int]]) -> None:
    data = bytearray(valid)
    for position, mask in flips:
        data[2 + position % (len(data) - 2)] ^= mask
    _decode_only_raises_decode_error(bytes(data))
    _decode_event_raises_only_the_two_errors(bytes(data))


@FUZZ
@given(st.sampled_from(VALID), st.binary(min_size=1, max_size=20), st.data())
def test_fuzz_insertions(valid: bytes, junk: bytes, data: st.DataObject) -> None:
    at = data.draw(st.integers(min_value=10, max_value=len(valid)))
    _decode_only_raises_decode_error(valid[:at] + junk + valid[at:])
    _decode_event_raises_only_the_two_errors(valid[:at] + junk + valid[at:])
