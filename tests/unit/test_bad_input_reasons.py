"""Every kind of bad input in the corpus gets its precise reason from `shixin publish`'s
validation (and, for the raw form, from the intake's decode and validate), at the right line;
and unusual but valid input stays valid."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from shixin.domain.events import COURT_EVENT_ADAPTER
from shixin.domain.reasons import describe_validation_error
from shixin.schemas.errors import DecodeError
from shixin.streams.court import decode_court_event
from shixin.streams.publish import parse_lines
from tests.corpus.bad_inputs import (
    CASES,
    VALID_NAMES,
    VALID_TIMESTAMPS,
    BadInput,
    correction,
    entity,
    json_cases,
    listing,
    person,
    raw_cases,
)

JSON_CASES = json_cases()
# Raw cases whose reason comes from decoding and validating alone (no lifecycle state needed).
STATELESS_RAW = [c for c in raw_cases() if not c.entry_id and not c.tombstone]


def good_line(n: int) -> str:
    return json.dumps(listing(f"OK-{n}", person(n, birth=date(1991, 2, 3))))


def test_the_corpus_has_at_least_40_kinds() -> None:
    assert len({c.name for c in CASES}) == len(CASES) >= 40
    assert len(JSON_CASES) >= 40 and len(raw_cases()) >= 40


@pytest.mark.parametrize("case", JSON_CASES, ids=lambda c: c.name)
def test_each_bad_line_gets_its_precise_reason_and_line_number(case: BadInput) -> None:
    assert case.json_line is not None and case.json_reason is not None
    lines = [good_line(1), "", good_line(2), case.json_line, good_line(3)]
    events, errors = parse_lines(lines)
    assert [e.line for e in errors] == [4], errors
    assert re.search(case.json_reason, errors[0].reason), (errors[0].reason, case.json_reason)
    assert {"OK-1", "OK-2", "OK-3"} <= {getattr(e, "entry_id", None) for e in events}


def test_a_file_mixing_every_bad_line_with_good_ones_reports_every_bad_line_only(
    tmp_path: Path,
) -> None:
    lines: list[str] = []
    expected: dict[int, BadInput] = {}
    for n, case in enumerate(JSON_CASES):
        assert case.json_line is not None
        lines.append(good_line(100 + n))
        if n % 5 == 0:
            lines.append("")  # blank lines are skipped, but still count
        lines.append(case.json_line)
        expected[len(lines)] = case
    lines.append(good_line(999))
    # through a real file, read the way `shixin publish` reads it
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    with path.open(encoding="utf-8") as handle:
        events, errors = parse_lines(handle)

    assert [e.line for e in errors] == sorted(expected)
    wrong = [
        (e.line, expected[e.line].name, e.reason)
        for e in errors
        if not re.search(expected[e.line].json_reason or "", e.reason)
    ]
    assert not wrong
    good = {f"OK-{100 + n}" for n in range(len(JSON_CASES))} | {"OK-999"}
    assert {getattr(e, "entry_id", None) for e in events} >= good


def test_a_refused_line_is_not_also_returned_as_an_event() -> None:
    (case,) = [c for c in JSON_CASES if c.name == "confirmation-not-by-a-person"]
    assert case.json_line is not None
    events, errors = parse_lines([case.json_line])
    assert len(errors) == 1
    assert events == []


@pytest.mark.parametrize("case", STATELESS_RAW, ids=lambda c: c.name)
def test_each_raw_input_is_refused_by_decode_and_validate_with_its_reason(
    case: BadInput,
) -> None:
    assert case.raw is not None and case.raw_reason is not None
    with pytest.raises((DecodeError, ValidationError)) as caught:
        decode_court_event(case.raw)
    exc = caught.value
    if isinstance(exc, DecodeError):
        reason = exc.reason
    else:
        assert isinstance(exc, ValidationError)
        reason = describe_validation_error(exc)
    assert re.search(case.raw_reason, reason), (reason, case.raw_reason)


def test_no_reason_is_absurdly_long() -> None:
    for case in JSON_CASES:
        assert case.json_line is not None
        _, errors = parse_lines([case.json_line])
        assert len(errors[0].reason) < 1000, case.name


# --- valid input stays valid --------------------------------------------------------------------


@pytest.mark.parametrize("name", VALID_NAMES)
def test_unusual_but_valid_names_are_accepted(name: str) -> None:
    company = listing("V-1", entity(7), kind="entity")
    company["subject"]["name"] = name
    company["subject"]["legal_representative"] = name
    company["related_persons"] = [{"role": "principal", "id": person(9), "name": name}]
    company["court"]["name"] = name
    company["basis"]["issuer"] = name
    events, errors = parse_lines([json.dumps(company, ensure_ascii=False)])
    assert not errors and len(events) == 1
    assert events[0].subject.name == name  # type: ignore[union-attr]


@pytest.mark.parametrize("stamp", VALID_TIMESTAMPS)
def test_rfc3339_timestamps_with_real_offsets_are_accepted(stamp: str) -> None:
    event = listing("V-2", person(11))
    event["decision_served_at"] = stamp
    event["occurred_at"] = stamp
    assert COURT_EVENT_ADAPTER.validate_python(event).occurred_at.utcoffset() is not None


def test_free_text_may_be_empty_and_hold_any_printable_text() -> None:
    event = listing("V-3", person(13))
    event["performed_part"] = ""
    event["obligation"] = "支付货款１００，０００元及利息（按LPR计算）·“违约金”" * 20
    assert len(event["obligation"]) <= 2000
    COURT_EVENT_ADAPTER.validate_python(event)
    fix = correction("V-3", {"grounds": [1, 2, 3, 4, 5, 6], "public": False})
    COURT_EVENT_ADAPTER.validate_python(fix)


def test_the_templates_of_the_corpus_are_valid() -> None:
    """Each case breaks one thing of a valid event: the templates themselves are valid."""
    for event in (
        listing("T-1", person(15)),
        listing("T-2", entity(17), kind="entity"),
        correction("T-1", {"public": False}),
    ):
        COURT_EVENT_ADAPTER.validate_python(copy.deepcopy(event))


def test_a_line_that_is_not_utf8_is_an_error_of_its_own() -> None:
    good = b'{"not": "an event"}'
    events, errors = parse_lines([b"\xff\xfe\x00{", good])
    assert str(errors[0]) == "line 1: not UTF-8 text: byte 0xFF at 0"
    assert errors[1].line == 2 and events == []
