"""The synthetic court event history: valid, deterministic, sorted, lifecycle-true, streamed."""

from __future__ import annotations

import itertools
import time
import tracemalloc
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from functools import cache
from typing import Any

import pytest

from shixin.domain.events import COURT_EVENT_ADAPTER
from shixin.domain.identifiers import (
    ENFORCEMENT_TYPE_CODES,
    parse_case_no,
    resident_id_birth_date,
    validate_credit_code,
    validate_resident_id,
)
from shixin.synthetic import DEFAULT_START, generate_history

Event = dict[str, Any]


@cache
def history(debtors: int = 2000, seed: int = 11) -> tuple[Event, ...]:
    return tuple(generate_history(debtors, seed))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def test_every_event_validates() -> None:
    for event in history():
        COURT_EVENT_ADAPTER.validate_python(event)


def test_times_are_rfc3339_in_china_standard_time() -> None:
    for event in history()[:500]:
        occurred = _at(event["occurred_at"])
        assert event["occurred_at"].endswith("+08:00")
        assert occurred.utcoffset() == timedelta(hours=8)
        assert occurred >= DEFAULT_START


def test_same_seed_same_history_other_seed_other_history() -> None:
    first = list(generate_history(300, 5))
    assert first == list(generate_history(300, 5))
    assert first != list(generate_history(300, 6))


def test_sorted_by_occurred_at() -> None:
    times = [_at(e["occurred_at"]) for e in history()]
    assert times == sorted(times)
    assert len({e["event_id"] for e in history()}) == len(history())


def test_spread_over_several_years_mostly_in_office_hours() -> None:
    times = [_at(e["occurred_at"]) for e in history()]
    assert (times[-1] - times[0]).days > 3 * 365
    office = sum(
        1
        for t in times
        if t.weekday() < 5 and (8 * 60 + 30 <= t.hour * 60 + t.minute <= 17 * 60 + 30)
    )
    assert office / len(times) > 0.75


_NEXT: dict[tuple[str | None, str], str] = {
    (None, "RiskWarningIssued"): "warned",
    (None, "DebtorListed"): "listed",
    ("warned", "DebtorListed"): "listed",
    ("listed", "ListingCorrected"): "listed",
    ("listed", "ObligationPerformed"): "listed",
    ("listed", "CorrectionRequested"): "listed",
    ("listed", "CorrectionRejected"): "listed",
    ("listed", "ListingShielded"): "shielded",
    ("listed", "ListingRevoked"): "revoked",
}


def test_lifecycle_order_per_entry() -> None:
    state: dict[str, str | None] = defaultdict(lambda: None)
    requested: set[str] = set()
    performed: set[str] = set()
    for event in history():
        entry, kind = event["entry_id"], event["type"]
        assert (state[entry], kind) in _NEXT, f"{kind} while {state[entry]} in {entry}"
        state[entry] = _NEXT[state[entry], kind]
        if kind == "CorrectionRequested":
            requested.add(entry)
        if kind == "CorrectionRejected":
            assert entry in requested, f"rejection without a request in {entry}"
            requested.discard(entry)
        if kind == "ObligationPerformed":
            performed.add(entry)
        if kind == "ListingRevoked" and event["ground"] == "correction_upheld":
            assert entry in requested
        if entry in performed and kind in ("ListingShielded", "ListingRevoked"):
            assert event["ground"] not in ("wrongly_listed", "correction_upheld")
    assert set(state.values()) >= {"listed", "shielded", "revoked"}
    assert "warned" not in state.values()  # every warning is followed by a listing


def test_exit_follows_performance_within_five_days_with_its_ground() -> None:
    last: dict[str, Event] = {}
    for event in history():
        previous = last.get(event["entry_id"])
        if previous is not None and previous["type"] == "ObligationPerformed":
            assert event["type"] in ("ListingShielded", "ListingRevoked")
            assert event["ground"] == previous["ground"]
            days = (_at(event["occurred_at"]).date() - _at(previous["occurred_at"]).date()).days
            assert 0 <= days <= 5 + 2  # a weekend may push it to Monday
        last[event["entry_id"]] = event


def test_listings_case_numbers_terms_and_ages() -> None:
    for event in history():
        case = parse_case_no(event["case_no"])
        assert case.type_code in {"执", "执恢"}
        assert case.is_enforcement and case.type_code in ENFORCEMENT_TYPE_CODES
        assert case.year <= _at(event["occurred_at"]).year
        if event["type"] != "DebtorListed":
            continue
        listed_on = _at(event["occurred_at"]).date()
        assert case.year == date.fromisoformat(event["filed_on"]).year
        assert date.fromisoformat(event["filed_on"]) < listed_on
        if event["grounds"] == [1]:
            assert event["term_ends_on"] is None
        else:
            ends = date.fromisoformat(event["term_ends_on"])
            assert ends.year == listed_on.year + 2
            assert (ends.month, ends.day) in ((listed_on.month, listed_on.day), (2, 28))
        subject = event["subject"]
        people = [p["id"] for p in event["related_persons"] if p["id"] is not None]
        if subject["kind"] == "person":
            people.append(subject["id"])
            assert 1950 <= date.fromisoformat(subject["birth_date"]).year <= 2000
        else:
            assert event["related_persons"][0]["role"] == "legal_representative"
            assert event["related_persons"][0]["name"] == subject["legal_representative"]
            assert event["related_persons"][0]["id"] is not None
        for person_id in people:
            assert _age(resident_id_birth_date(person_id), listed_on) >= 18
        related = [p["id"] for p in event["related_persons"]]
        assert subject["id"] not in related


def test_person_ids_are_unique_per_person() -> None:
    events = history()
    corrected = {
        e["entry_id"]: e["changes"]["subject"]
        for e in events
        if e["type"] == "ListingCorrected" and "subject" in e["changes"]
    }
    names: dict[str, set[str]] = defaultdict(set)
    debtor_ids: set[str] = set()
    related_ids: set[str] = set()
    mistaken_ids: list[str] = []
    for event in events:
        if event["type"] != "DebtorListed":
            continue
        subject = corrected.get(event["entry_id"], event["subject"])
        if event["subject"]["id"] != subject["id"]:
            mistaken_ids.append(event["subject"]["id"])
        names[subject["id"]].add(subject["name"])
        debtor_ids.add(subject["id"])
        for person in event["related_persons"]:
            if person["id"] is not None:
                names[person["id"]].add(person["name"])
                related_ids.add(person["id"])
    assert {k: v for k, v in names.items() if len(v) > 1} == {}
    assert not debtor_ids & related_ids
    assert mistaken_ids, "expected some id corrections"
    for wrong in mistaken_ids:
        assert wrong not in names  # a mistaken id belongs to nobody else


def test_corrections_change_something_real() -> None:
    listed: dict[str, Event] = {}
    kinds: Counter[str] = Counter()
    for event in history():
        if event["type"] == "DebtorListed":
            listed[event["entry_id"]] = event
        if event["type"] != "ListingCorrected":
            continue
        changes, original = event["changes"], listed[event["entry_id"]]
        assert changes, "an empty correction"
        for field, value in changes.items():
            assert original[field] != value, f"{field} unchanged in {event['entry_id']}"
        if "subject" in changes:
            new, old = changes["subject"], original["subject"]
            assert new["kind"] == old["kind"]
            if new["id"] != old["id"]:
                kinds["id"] += 1
                check = validate_resident_id if new["kind"] == "person" else validate_credit_code
                check(new["id"])
                check(old["id"])
            else:
                kinds["name"] += 1
                assert new["name"] != old["name"]
        else:
            kinds["unperformed"] += 1
    assert kinds["name"] and kinds["unperformed"] and kinds["id"]


def test_proportions_are_roughly_right() -> None:
    events = history()
    by_type = Counter(e["type"] for e in events)
    listings = [e for e in events if e["type"] == "DebtorListed"]
    entries = len(listings)
    subjects: dict[str, set[str]] = defaultdict(set)
    kinds: dict[str, str] = {}
    for e in listings:
        subjects[e["subject"]["id"]].add(e["entry_id"])
        kinds[e["subject"]["id"]] = e["subject"]["kind"]
    # id corrections make a few extra keys; they are well under 1%.
    assert 2000 <= len(subjects) <= 2000 * 1.01
    persons = sum(1 for k in kinds.values() if k == "person") / len(kinds)
    assert 0.81 <= persons <= 0.89
    multi = sum(1 for s in subjects.values() if len(s) > 1) / len(subjects)
    assert 0.07 <= multi <= 0.13
    assert max(len(s) for s in subjects.values()) <= 3
    assert 0.87 <= by_type["RiskWarningIssued"] / entries <= 0.93
    assert 0.55 <= by_type["ObligationPerformed"] / entries <= 0.65
    assert 0.03 <= by_type["ListingCorrected"] / entries <= 0.07
    assert 0.015 <= by_type["CorrectionRequested"] / entries <= 0.045
    assert by_type["CorrectionRejected"] > 0
    upheld = sum(
        1 for e in events if e["type"] == "ListingRevoked" and e["ground"] == "correction_upheld"
    )
    assert upheld > 0
    grounds = Counter(g for e in listings for g in e["grounds"])
    assert grounds.most_common(1)[0][0] == 1
    assert set(grounds) == {1, 2, 3, 4, 5, 6}
    exited = by_type["ListingShielded"] + by_type["ListingRevoked"]
    assert exited < entries  # some stay listed
    courts = {e["court"]["code"] for e in listings}
    assert 18 <= len(courts) <= 25
    assert any(e["subject"]["kind"] == "entity" and len(e["related_persons"]) > 1 for e in listings)


def test_start_is_respected() -> None:
    start = datetime(2023, 6, 1, 10, 0)  # naive: China Standard Time
    events = list(generate_history(50, 3, start=start))
    first = _at(events[0]["occurred_at"])
    assert first >= start.replace(tzinfo=timezone(timedelta(hours=8)))
    assert first < datetime(2023, 6, 10, tzinfo=timezone(timedelta(hours=8)))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="debtors must be 0 or more"):
        generate_history(-1, 1)
    assert list(generate_history(0, 1)) == []
    with pytest.raises(ValueError, match="would run past 2100"):
        generate_history(100_000_000, 1)


def test_large_history_is_lazy() -> None:
    tracemalloc.start()
    began = time.perf_counter()
    try:
        first = list(itertools.islice(generate_history(200_000, 1), 1000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(first) == 1000
    assert time.perf_counter() - began < 5
    assert peak < 20 * 1024 * 1024
    times = [_at(e["occurred_at"]) for e in first]
    assert times == sorted(times)
    assert times[-1] - times[0] < timedelta(days=30)
