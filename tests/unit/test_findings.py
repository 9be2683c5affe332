"""Audit findings: each kind, and none where none is due."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from importlib import resources
from typing import Any

import pytest

from shixin.domain.events import (
    COURT_EVENT_ADAPTER,
    CorrectionRequested,
    DebtorListed,
)
from shixin.domain.findings import (
    Finding,
    correction_findings,
    is_minor_on,
    listing_findings,
)
from shixin.domain.identifiers import make_resident_id
from shixin.domain.policy import DeadlinePolicy, load_policy
from tests import builders


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _policy(name: str) -> DeadlinePolicy:
    path = resources.files("shixin.domain") / "data" / "policies" / f"{name}.yaml"
    return load_policy(path.read_text("utf-8"))


def _listed(subject_id: str, at: str = "2026-03-11T10:00:00+08:00", **kwargs: Any) -> DebtorListed:
    event = COURT_EVENT_ADAPTER.validate_python(builders.listed("E1", subject_id, at, **kwargs))
    assert isinstance(event, DebtorListed)
    return event


def _correction(received_at: str) -> CorrectionRequested:
    event = COURT_EVENT_ADAPTER.validate_python(
        {
            "event_id": str(uuid.uuid4()),
            "type": "CorrectionRequested",
            "entry_id": "E1",
            "case_no": "(2026)赣0483执12号",
            "court": builders.COURT,
            "occurred_at": received_at,
            "received_at": received_at,
            "grounds": "已履行完毕",
        }
    )
    assert isinstance(event, CorrectionRequested)
    return event


ADULT = make_resident_id("360483", date(1980, 5, 17), 11)
# Turns 18 on 2026-10-01 (a minor that day, an adult from 2026-10-02).
TURNS_18_ON_NATIONAL_DAY = make_resident_id("360483", date(2008, 10, 1), 12)
CHILD = make_resident_id("360483", date(2012, 6, 1), 14)


# --- listed_without_warning ------------------------------------------------------------------


def test_a_warned_adult_listing_has_no_finding() -> None:
    assert listing_findings(_listed(ADULT), warned=True) == []


def test_a_listing_without_warning_is_a_finding() -> None:
    event = _listed(ADULT)
    [finding] = listing_findings(event, warned=False)
    assert finding.kind == "listed_without_warning"
    assert finding.entry_id == "E1"
    assert finding.event_id == event.event_id
    assert "2026-03-11" in finding.detail


def test_an_entity_listing_without_warning_is_a_finding() -> None:
    event = _listed(builders.entity_id(7), kind="entity")
    assert [f.kind for f in listing_findings(event, warned=False)] == ["listed_without_warning"]
    assert listing_findings(event, warned=True) == []


# --- minor_listed ----------------------------------------------------------------------------


def test_a_minor_debtor_is_a_finding() -> None:
    event = _listed(CHILD)
    [finding] = listing_findings(event, warned=True)
    assert finding.kind == "minor_listed"
    assert finding.event_id == event.event_id
    assert "the debtor" in finding.detail
    assert "2012-06-01" in finding.detail
    assert CHILD not in finding.detail  # the ID appears masked only
    assert "3604832012****" in finding.detail


def test_a_minor_unwarned_gives_both_findings() -> None:
    kinds = [f.kind for f in listing_findings(_listed(CHILD), warned=False)]
    assert kinds == ["listed_without_warning", "minor_listed"]


@pytest.mark.parametrize(
    ("at", "minor"),
    [
        ("2026-09-30T10:00:00+08:00", True),  # the day before the 18th birthday
        ("2026-10-01T10:00:00+08:00", True),  # the 18th birthday itself
        ("2026-10-01T23:59:00+08:00", True),
        ("2026-10-02T00:01:00+08:00", False),  # the day after: an adult
        # Stamped in UTC: the CST date decides.
        ("2026-09-30T16:30:00Z", True),  # 2026-10-01 00:30 CST
        ("2026-10-01T15:59:00Z", True),  # 2026-10-01 23:59 CST
        ("2026-10-01T16:30:00Z", False),  # 2026-10-02 00:30 CST
    ],
)
def test_age_at_listing_uses_the_cst_date(at: str, minor: bool) -> None:
    kinds = [f.kind for f in listing_findings(_listed(TURNS_18_ON_NATIONAL_DAY, at), warned=True)]
    assert kinds == (["minor_listed"] if minor else [])


def test_an_adult_debtor_has_no_finding() -> None:
    assert listing_findings(_listed(ADULT, "2026-10-02T09:00:00+08:00"), warned=True) == []


def test_a_minor_related_person_is_a_finding() -> None:
    related = [
        {"role": "legal_representative", "id": ADULT, "name": "李四"},
        {"role": "actual_controller", "id": CHILD, "name": "王五"},
        {"role": "principal", "name": "赵六"},  # no resident ID: age unknown, no finding
    ]
    event = _listed(builders.entity_id(8), kind="entity", related=related)
    [finding] = listing_findings(event, warned=True)
    assert finding.kind == "minor_listed"
    assert "related person (actual_controller)" in finding.detail


def test_a_person_debtor_with_a_minor_related_person() -> None:
    related = [{"role": "responsible_person", "id": CHILD, "name": "王五"}]
    findings = listing_findings(_listed(ADULT, related=related), warned=True)
    assert [f.kind for f in findings] == ["minor_listed"]


def test_is_minor_on() -> None:
    born = date(2008, 10, 1)
    assert is_minor_on(born, date(2026, 9, 30))
    assert is_minor_on(born, date(2026, 10, 1))
    assert not is_minor_on(born, date(2026, 10, 2))
    # 29 February: the 18th anniversary in a common year is 28 February (Civil Code Art. 202).
    leap = date(2008, 2, 29)
    assert is_minor_on(leap, date(2026, 2, 28))
    assert not is_minor_on(leap, date(2026, 3, 1))
    assert is_minor_on(date(2012, 2, 29), date(2030, 2, 28))
    assert not is_minor_on(date(2012, 2, 29), date(2030, 3, 1))


# --- late_correction_request -----------------------------------------------------------------

# Served Wed 2026-09-23: 10 days -> Sat Oct 3, inside National Day (Oct 1-7 off) -> Thu Oct 8.
SERVED = _t("2026-09-23T15:00:00+08:00")


@pytest.mark.parametrize("policy", ["brief", "spc-2017"])
@pytest.mark.parametrize(
    ("received", "late"),
    [
        ("2026-09-24T09:00:00+08:00", False),
        ("2026-10-03T12:00:00+08:00", False),  # the 10th day, a holiday
        ("2026-10-08T23:59:00+08:00", False),  # the window ends on the first working day after
        ("2026-10-08T15:59:00Z", False),  # the same moment in UTC
        ("2026-10-09T00:01:00+08:00", True),
        ("2026-10-08T16:01:00Z", True),  # 2026-10-09 00:01 CST
    ],
)
def test_the_correction_window(policy: str, received: str, late: bool) -> None:
    event = _correction(received)
    findings = correction_findings(event, SERVED, _policy(policy))
    if not late:
        assert findings == []
        return
    [finding] = findings
    assert finding == Finding(
        kind="late_correction_request",
        entry_id="E1",
        event_id=event.event_id,
        detail=finding.detail,
    )
    assert "2026-10-09" in finding.detail
    assert "2026-10-08" in finding.detail
    assert "10 days" in finding.detail


def test_the_window_is_counted_from_the_cst_date_of_service() -> None:
    # Served 2026-09-19T16:30Z = Sep 20 00:30 CST: 10 days -> Wed Sep 30.
    served = _t("2026-09-19T16:30:00Z")
    brief = _policy("brief")
    assert correction_findings(_correction("2026-09-30T20:00:00+08:00"), served, brief) == []
    late = correction_findings(_correction("2026-10-01T09:00:00+08:00"), served, brief)
    assert [f.kind for f in late] == ["late_correction_request"]


def test_no_decision_served_at_means_no_finding() -> None:
    event = _correction("2027-06-01T09:00:00+08:00")  # any time at all, even past the calendar
    assert correction_findings(event, None, _policy("brief")) == []


def test_the_policy_sets_the_window() -> None:
    text = (
        _policy("brief")
        .model_dump_json()
        .replace(
            '"correction_window":{"length":10,"unit":"days"}',
            '"correction_window":{"length":3,"unit":"working_days"}',
        )
    )
    strict = load_policy(text)
    assert strict.correction_window.unit == "working_days"
    # Served Wed Sep 23: Thu Sep 24, then Mid-Autumn (Sep 25-27 off), Mon Sep 28, Tue Sep 29.
    on_time = _correction("2026-09-29T18:00:00+08:00")
    late = _correction("2026-09-30T09:00:00+08:00")
    assert correction_findings(on_time, SERVED, strict) == []
    [finding] = correction_findings(late, SERVED, strict)
    assert "3 working days" in finding.detail


def test_findings_serialise_for_findings_json() -> None:
    event = _listed(CHILD)
    [finding] = listing_findings(event, warned=True)
    dumped = finding.model_dump(mode="json")
    assert set(dumped) == {"kind", "entry_id", "event_id", "detail"}
    assert dumped["event_id"] == str(event.event_id)
