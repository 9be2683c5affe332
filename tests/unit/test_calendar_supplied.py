"""Years the calendar library does not hold yet, supplied by operators from the State Council's
notice: they count like the library's years, are checked, and every cache of due dates follows.

The 2027 schedule here is made up for the tests (the library's data ends in 2026); the 2026 one
is the notice's, from `tests/unit/test_calendar.py`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from shixin.domain.calendar import (
    CalendarError,
    YearSchedule,
    covered_years,
    install_schedules,
    is_rest_day,
    is_working_day,
    parse_schedules,
    supplied_schedules,
)
from shixin.domain.deadlines import due_date
from shixin.domain.obligations import safe_due
from shixin.domain.sanctions import _lift_due
from shixin.runtime.catalogs import get_policy, policy_for
from shixin.runtime.settings import Settings
from tests.unit.test_calendar import HOLIDAYS, MAKEUP_WORKING_DAYS

# made up: New Year's Day and a Spring Festival week, with one make-up Sunday
MADE_UP_2027 = """
- year: 2027
  notice: made up for the tests
  holidays: [2027-01-01, 2027-02-05, 2027-02-06, 2027-02-07, 2027-02-08, 2027-02-09,
             2027-02-10, 2027-02-11]
  working_days: [2027-01-31]
"""


@pytest.fixture(autouse=True)
def library_only() -> Iterator[None]:
    install_schedules([])
    yield
    install_schedules([])


def _2026_as_a_file() -> str:
    holidays = sorted(d for days in HOLIDAYS[2026].values() for d in days)
    return (
        f"- year: 2026\n  holidays: [{', '.join(holidays)}]\n"
        f"  working_days: [{', '.join(MAKEUP_WORKING_DAYS[2026])}]\n"
    )


def test_a_supplied_year_counts_like_the_library_years() -> None:
    with pytest.raises(CalendarError):
        is_working_day(date(2027, 1, 4))
    install_schedules(parse_schedules(MADE_UP_2027))
    assert covered_years() == (2004, 2027)
    assert is_rest_day(date(2027, 1, 1))  # a Friday given off
    assert is_working_day(date(2027, 1, 4))  # an ordinary Monday
    assert is_rest_day(date(2027, 1, 9))  # an ordinary Saturday
    assert is_working_day(date(2027, 1, 31))  # a make-up Sunday
    assert is_rest_day(date(2027, 2, 8))  # a Monday of the made-up Spring Festival
    with pytest.raises(CalendarError, match="covers 2004-2027"):
        is_working_day(date(2028, 1, 3))
    assert [s.year for s in supplied_schedules()] == [2027]


def test_a_deadline_across_new_year_gets_its_due_date_once_the_year_is_supplied() -> None:
    thursday = datetime(2026, 12, 31, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
    rule = get_policy("brief").department_lift
    # not covered yet: no due date (never a guess), and that answer is remembered ...
    assert safe_due(lambda: due_date(thursday, 3, "working_days")) is None
    assert _lift_due(rule, thursday, 3) is None
    install_schedules(parse_schedules(MADE_UP_2027))
    # ... until the year comes: Friday 1 January is off, so Mon 4, Tue 5, Wed 6
    assert due_date(thursday, 3, "working_days") == date(2027, 1, 6)
    # Art. 85 days: 3 January is a Sunday, so the first working day after it
    assert due_date(thursday, 3, "days") == date(2027, 1, 4)
    assert _lift_due(rule, thursday, 3) == rule.due(thursday, 3)
    install_schedules([])
    assert _lift_due(rule, thursday, 3) is None


def test_a_supplied_year_the_library_holds_must_agree_with_it() -> None:
    install_schedules(parse_schedules(_2026_as_a_file()))  # the notice's own: accepted
    assert [s.year for s in supplied_schedules()] == [2026]
    assert covered_years() == (2004, 2026)
    wrong = _2026_as_a_file().replace("2026-10-10", "2026-10-17")  # a make-up Saturday moved
    with pytest.raises(CalendarError, match=r"differs .* on 2 day\(s\), the first 2026-10-10"):
        install_schedules(parse_schedules(wrong))
    assert [s.year for s in supplied_schedules()] == [2026]  # the refused file changed nothing


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("- year: 2027\n  holidays: [2028-01-01]\n", "2028-01-01 is not in 2027"),
        (
            "- year: 2027\n  holidays: [2027-01-01]\n  working_days: [2027-01-04]\n",
            "make-up working day 2027-01-04 is a weekday",
        ),
        (
            "- year: 2027\n  holidays: [2027-01-02]\n  working_days: [2027-01-02]\n",
            "2027-01-02 is both a holiday and a working day",
        ),
        ("- year: 2027\n  holidays: []\n", "at least 1 item"),
        ("- year: 2027\n  holidays: [2027-01-01]\n  days_off: []\n", "days_off"),
        ("- year: 2027\n  holidays: [2027-02-30]\n", "holidays.0"),
        ("year: 2027\n", "a list of years"),
        (MADE_UP_2027 + MADE_UP_2027, "2027 is given more than once"),
    ],
)
def test_a_wrong_file_is_refused_with_its_reason(text: str, reason: str) -> None:
    with pytest.raises((ValueError, ValidationError), match=reason):
        parse_schedules(text)


def test_an_empty_file_supplies_nothing() -> None:
    assert parse_schedules("") == []
    assert parse_schedules("# nothing yet\n") == []


def test_the_roles_policy_comes_with_the_settings_schedules(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text(MADE_UP_2027, "utf-8")
    policy = policy_for(Settings(holiday_schedules=str(path)))
    assert policy == get_policy("brief")
    assert covered_years() == (2004, 2027)
    policy_for(Settings(holiday_schedules=None))
    assert covered_years() == (2004, 2026)


def test_a_schedule_knows_its_working_days() -> None:
    schedule = YearSchedule(year=2027, holidays=(date(2027, 1, 1),), working_days=())
    assert not schedule.is_working_day(date(2027, 1, 1))
    assert schedule.is_working_day(date(2027, 1, 4))
    assert len(schedule.days()) == 365
