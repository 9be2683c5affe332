"""Deadline arithmetic in CST, verdicts, and the two shipped deadline policies."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from importlib import resources

import pytest

from shixin.domain.calendar import CalendarError, is_working_day
from shixin.domain.deadlines import CST, due_date, local_date, verdict
from shixin.domain.policy import (
    PACKAGED_POLICIES,
    DeadlinePolicy,
    Period,
    PolicyError,
    load_policy,
)


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _policy(name: str) -> DeadlinePolicy:
    path = resources.files("shixin.domain") / "data" / "policies" / f"{name}.yaml"
    return load_policy(path.read_text("utf-8"))


# --- local_date ---------------------------------------------------------------------------


def test_cst_is_utc_plus_8() -> None:
    assert timedelta(hours=8) == CST.utcoffset(None)


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-09-29T16:30:00Z", date(2026, 9, 30)),  # 00:30 CST on the 30th
        ("2026-09-29T15:59:59Z", date(2026, 9, 29)),  # 23:59:59 CST on the 29th
        ("2026-09-29T16:00:00Z", date(2026, 9, 30)),  # 24:00 CST = 00:00 of the next day
        ("2026-09-30T00:30:00+08:00", date(2026, 9, 30)),
        ("2026-09-29T20:00:00-05:00", date(2026, 9, 30)),  # 01:00Z -> 09:00 CST
        ("2026-09-30T23:59:00+09:00", date(2026, 9, 30)),  # 22:59 CST
        ("2026-10-01T00:30:00+09:00", date(2026, 9, 30)),  # 23:30 CST the day before
    ],
)
def test_local_date_is_the_cst_date(stamp: str, expected: date) -> None:
    assert local_date(_t(stamp)) == expected


def test_local_date_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        local_date(datetime(2026, 9, 30, 10, 0))


# --- due_date: days (Civil Procedure Law Art. 85) -------------------------------------------


@pytest.mark.parametrize(
    ("start", "length", "expected", "why"),
    [
        (date(2026, 3, 10), 3, date(2026, 3, 13), "Tue -> Fri, no rest day at the end"),
        (date(2026, 3, 11), 3, date(2026, 3, 16), "Wed -> Sat, rolls past the weekend to Mon"),
        (date(2026, 3, 12), 3, date(2026, 3, 16), "Thu -> Sun -> Mon"),
        (date(2026, 3, 13), 3, date(2026, 3, 16), "Fri -> Mon: a weekend inside does not count"),
        (date(2026, 3, 13), 1, date(2026, 3, 16), "Fri + 1 = Sat -> Mon"),
        # National Day 2026 (Oct 1-7 off): Sep 30 + 3 = Oct 3 (holiday) -> Oct 8 (Thu).
        (date(2026, 9, 30), 3, date(2026, 10, 8), "National Day 2026"),
        # 2025 National Day + Mid-Autumn (Oct 1-8 off): Oct 3 -> Oct 9 (Thu).
        (date(2025, 9, 30), 3, date(2025, 10, 9), "National Day 2025"),
        # Spring Festival 2026 (Feb 15-23 off): Feb 12 + 3 = Feb 15 -> Feb 24 (Tue).
        (date(2026, 2, 12), 3, date(2026, 2, 24), "Spring Festival 2026"),
        # Feb 11 + 3 = Sat Feb 14, a make-up working Saturday: the period ends there.
        (date(2026, 2, 11), 3, date(2026, 2, 14), "ends on a make-up working Saturday"),
        # Jan 1 + 1 = Jan 2 (off) -> Jan 3 (off) -> Sun Jan 4, a make-up working Sunday.
        (date(2026, 1, 1), 1, date(2026, 1, 4), "rolls onto a make-up working Sunday"),
        # Spring Festival 2024 (Feb 10-17 off, Sun Feb 18 working): Feb 7 + 3 = Feb 10 -> Feb 18.
        (date(2024, 2, 7), 3, date(2024, 2, 18), "Spring Festival 2024 -> make-up Sunday"),
        # A start inside a holiday: the count still runs over the holiday days.
        (date(2026, 10, 2), 3, date(2026, 10, 8), "start inside the holiday"),
        # 10 days (the correction window) across National Day 2026: Sep 23 + 10 = Oct 3 -> Oct 8.
        (date(2026, 9, 23), 10, date(2026, 10, 8), "10 days ending in the holiday"),
        (date(2026, 9, 20), 10, date(2026, 9, 30), "10 days ending on a working Wed"),
        # 15 days (SPC review) from Sep 16, 2026: Oct 1 (holiday) -> Oct 8.
        (date(2026, 9, 16), 15, date(2026, 10, 8), "15 days ending in the holiday"),
    ],
)
def test_days_follow_article_85(start: date, length: int, expected: date, why: str) -> None:
    assert due_date(start, length, "days") == expected, why


# --- due_date: working days -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "length", "expected", "why"),
    [
        (date(2026, 3, 10), 3, date(2026, 3, 13), "Tue -> Wed, Thu, Fri"),
        (date(2026, 3, 12), 3, date(2026, 3, 17), "Thu -> Fri, Mon, Tue"),
        (date(2026, 3, 14), 1, date(2026, 3, 16), "from a Saturday: Mon is the first"),
        # National Day 2026: Oct 1-7 off; Oct 8 (Thu), Oct 9 (Fri), Oct 10 (make-up Sat).
        (date(2026, 9, 30), 3, date(2026, 10, 10), "National Day 2026 -> make-up Saturday"),
        (date(2026, 9, 29), 3, date(2026, 10, 9), "Sep 30, Oct 8, Oct 9"),
        # Sep 18 (Fri): Sun Sep 20 is a make-up working day and counts.
        (date(2026, 9, 18), 1, date(2026, 9, 20), "the make-up Sunday is the first working day"),
        # Sep 18 (Fri): Sep 20 (make-up Sun), 21, 22, 23, 24, then Mid-Autumn Sep 25-27 off.
        (date(2026, 9, 18), 6, date(2026, 9, 28), "make-up Sunday, then over Mid-Autumn"),
        # 2025 National Day + Mid-Autumn: Oct 1-8 off; Oct 9, 10, 11 (make-up Sat).
        (date(2025, 9, 30), 3, date(2025, 10, 11), "National Day 2025"),
        # Spring Festival 2025: Fri Jan 24 -> Sun Jan 26 (make-up), Mon Jan 27, then Jan 28 -
        # Feb 4 off, Wed Feb 5.
        (date(2025, 1, 24), 3, date(2025, 2, 5), "Spring Festival 2025"),
        # Spring Festival 2026: Feb 13 (Fri), Feb 14 (make-up Sat), then Feb 15-23 off, Feb 24.
        (date(2026, 2, 12), 3, date(2026, 2, 24), "Spring Festival 2026"),
        # National Day 2024: Sep 29 (make-up Sun), Sep 30, then Oct 1-7 off, Oct 8.
        (date(2024, 9, 27), 3, date(2024, 10, 8), "National Day 2024"),
        # Oct 8-11 2024 (Tue-Fri), then Sat Oct 12 (make-up).
        (date(2024, 10, 7), 5, date(2024, 10, 12), "ends on the make-up Saturday"),
        # Across New Year 2026: Dec 31 (Wed) -> Jan 1-3 off -> Jan 4 (make-up Sun).
        (date(2025, 12, 31), 1, date(2026, 1, 4), "New Year 2026 -> make-up Sunday"),
    ],
)
def test_working_days_count_only_working_days(
    start: date, length: int, expected: date, why: str
) -> None:
    assert due_date(start, length, "working_days") == expected, why


def test_every_result_is_a_working_day_after_the_start() -> None:
    start = date(2024, 1, 1)
    while start < date(2026, 12, 1):
        for length in (1, 3, 10):
            for unit in ("days", "working_days"):
                due = due_date(start, length, unit)
                assert is_working_day(due), (start, length, unit)
                assert due >= start + timedelta(days=length), (start, length, unit)
        start += timedelta(days=1)


# --- the start as an event time --------------------------------------------------------------


def test_a_utc_stamp_near_midnight_counts_from_its_cst_date() -> None:
    # 2026-09-29T16:30:00Z is 2026-09-30 00:30 CST: the start day is Sep 30.
    late = _t("2026-09-29T16:30:00Z")
    assert due_date(late, 3, "days") == date(2026, 10, 8)
    assert due_date(late, 3, "working_days") == date(2026, 10, 10)
    # One hour earlier is still Sep 29 in CST: Sep 30, Oct 8, Oct 9.
    early = _t("2026-09-29T15:30:00Z")
    assert due_date(early, 3, "working_days") == date(2026, 10, 9)


def test_a_datetime_start_equals_its_cst_date() -> None:
    for stamp in ("2026-09-30T10:00:00+08:00", "2026-09-30T02:00:00Z", "2026-09-30T23:59+08:00"):
        for unit in ("days", "working_days"):
            assert due_date(_t(stamp), 3, unit) == due_date(date(2026, 9, 30), 3, unit)


def test_the_2026_09_30_performance_under_both_policies() -> None:
    performed_at = _t("2026-09-30T10:00:00+08:00")
    # brief: 3 days, Art. 85: Oct 1, 2, 3 -> Oct 3 is a holiday (Oct 1-7 off) -> Oct 8 (Thu).
    assert _policy("brief").court_exit.due(performed_at) == date(2026, 10, 8)
    # spc-2017: 3 working days: Oct 1-7 off; Oct 8 (Thu), Oct 9 (Fri), Oct 10 (make-up Sat).
    assert _policy("spc-2017").court_exit.due(performed_at) == date(2026, 10, 10)


@pytest.mark.parametrize("length", [0, -1, True])
def test_a_length_below_one_is_refused(length: int) -> None:
    with pytest.raises(ValueError, match="length"):
        due_date(date(2026, 3, 10), length, "days")


def test_an_unknown_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="unit"):
        due_date(date(2026, 3, 10), 3, "weeks")  # type: ignore[arg-type]


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        due_date(datetime(2026, 9, 30, 10, 0), 3, "days")


def test_a_period_past_the_calendar_raises_instead_of_guessing() -> None:
    # Dec 30 + 3 = 2027-01-02: the 2027 schedule is not in the calendar.
    with pytest.raises(CalendarError, match="no holiday schedule for 2027"):
        due_date(date(2026, 12, 30), 3, "days")
    with pytest.raises(CalendarError, match="no holiday schedule for 2027"):
        due_date(date(2026, 12, 29), 3, "working_days")
    # Inside 2026 it still answers: Dec 28 (Mon) + 3 = Dec 31 (Thu).
    assert due_date(date(2026, 12, 28), 3, "days") == date(2026, 12, 31)


# --- verdicts --------------------------------------------------------------------------------

DUE = date(2026, 10, 8)
BEFORE = _t("2026-10-05T12:00:00+08:00")


def test_met_on_the_due_day_at_23_59_cst() -> None:
    assert verdict(DUE, _t("2026-10-08T23:59:00+08:00"), now=_t("2026-10-20T00:00+08:00")) == "met"
    # The same moment stamped in UTC.
    assert verdict(DUE, _t("2026-10-08T15:59:00Z"), now=_t("2026-10-20T00:00+08:00")) == "met"
    # Closed early.
    assert verdict(DUE, _t("2026-09-30T11:00:00+08:00"), now=BEFORE) == "met"


def test_missed_the_next_day_at_00_01_cst() -> None:
    now = _t("2026-10-20T00:00+08:00")
    assert verdict(DUE, _t("2026-10-09T00:01:00+08:00"), now=now) == "missed"
    # 16:01Z on the due day is already 00:01 CST the next day.
    assert verdict(DUE, _t("2026-10-08T16:01:00Z"), now=now) == "missed"


def test_open_until_the_due_day_ends_then_breached() -> None:
    assert verdict(DUE, None, now=BEFORE) == "open"
    assert verdict(DUE, None, now=_t("2026-10-08T23:59:00+08:00")) == "open"
    assert verdict(DUE, None, now=_t("2026-10-08T15:59:00Z")) == "open"
    assert verdict(DUE, None, now=_t("2026-10-09T00:01:00+08:00")) == "breached"
    assert verdict(DUE, None, now=_t("2026-10-08T16:01:00Z")) == "breached"


def test_verdict_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        verdict(DUE, None, now=datetime(2026, 10, 9, 0, 1))
    with pytest.raises(ValueError):
        verdict(DUE, datetime(2026, 10, 8, 12, 0), now=BEFORE)


def test_verdict_uses_other_offsets_too() -> None:
    minus5 = timezone(timedelta(hours=-5))
    # 2026-10-08 11:30 -05:00 = 2026-10-09 00:30 CST: late.
    closed = datetime(2026, 10, 8, 11, 30, tzinfo=minus5)
    assert verdict(DUE, closed, now=closed) == "missed"


# --- policies --------------------------------------------------------------------------------


def test_the_packaged_policies_load() -> None:
    assert PACKAGED_POLICIES == ("brief", "spc-2017")
    for name in PACKAGED_POLICIES:
        assert _policy(name).name == name


def test_the_brief_policy() -> None:
    p = _policy("brief")
    assert p.court_exit == Period(length=3, unit="days")
    assert p.correction_review == Period(length=3, unit="days")
    assert p.department_lift.unit == "days"
    assert p.term_expiry_exit == Period(length=3, unit="working_days")
    assert p.correction_window == Period(length=10, unit="days")


def test_the_spc_2017_policy() -> None:
    p = _policy("spc-2017")
    assert p.court_exit == Period(length=3, unit="working_days")
    assert p.correction_review == Period(length=15, unit="days")
    assert p.department_lift.unit == "working_days"
    assert p.term_expiry_exit == Period(length=3, unit="working_days")
    assert p.correction_window == Period(length=10, unit="days")


def test_department_lift_takes_its_length_from_the_catalog() -> None:
    left_list = _t("2026-09-30T10:00:00+08:00")
    assert _policy("brief").department_lift.due(left_list, 3) == date(2026, 10, 8)
    assert _policy("spc-2017").department_lift.due(left_list, 3) == date(2026, 10, 10)


_VALID = """
name: custom
description: test
court_exit: {length: 3, unit: days}
correction_review: {length: 3, unit: days}
department_lift: {unit: days}
term_expiry_exit: {length: 3, unit: working_days}
correction_window: {length: 10, unit: days}
"""


def test_a_custom_policy_loads_from_yaml_or_json() -> None:
    assert load_policy(_VALID).name == "custom"
    as_json = _policy("spc-2017").model_dump_json()
    assert load_policy(as_json) == _policy("spc-2017")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (_VALID.replace("court_exit: {length: 3, unit: days}\n", ""), "court_exit"),
        (_VALID + "extra: 1\n", "extra"),
        (_VALID.replace("{length: 10, unit: days}", "{length: 0, unit: days}"), "length"),
        (_VALID.replace("{length: 10, unit: days}", '{length: "10", unit: days}'), "length"),
        (_VALID.replace("{length: 10, unit: days}", "{length: 10, unit: weeks}"), "unit"),
        (_VALID.replace("department_lift: {unit: days}", "department_lift: {unit: days, "
                        "length: 3}"), "department_lift"),
        ("- just\n- a list\n", "mapping"),
        ("name: [unclosed\n", "YAML"),
    ],
)  # fmt: skip
def test_an_invalid_policy_is_refused(text: str, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem):
        load_policy(text)
