"""The holiday calendar against the State Council notices (国务院办公厅关于…年部分节假日安排的通知).

Every day a notice gives off and every make-up working day it names is listed here by hand from
the notice text; the rest of each year must be ordinary (Monday-Friday working, weekends off).

* 2024: 国办发明电〔2023〕7号, 2023-10-25.
* 2025: 国办发明电〔2024〕12号, 2024-11-12 (the first year with the 2 extra statutory days).
* 2026: notice of 2025-11-04 (Xinhua, gov.cn content_7047090).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from shixin.domain.calendar import CalendarError, covered_years, is_rest_day, is_working_day


def _d(text: str) -> date:
    return date.fromisoformat(text)


# Days off, holiday by holiday, exactly as each notice's 放假 clause gives them.
HOLIDAYS: dict[int, dict[str, tuple[str, ...]]] = {
    2024: {
        # 元旦：1月1日放假，与周末连休。
        "new_year": ("2024-01-01",),
        # 春节：2月10日至17日放假调休，共8天。
        "spring_festival": (
            "2024-02-10", "2024-02-11", "2024-02-12", "2024-02-13",
            "2024-02-14", "2024-02-15", "2024-02-16", "2024-02-17",
        ),
        # 清明节：4月4日至6日放假调休，共3天。
        "qingming": ("2024-04-04", "2024-04-05", "2024-04-06"),
        # 劳动节：5月1日至5日放假调休，共5天。
        "labour_day": ("2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04", "2024-05-05"),
        # 端午节：6月10日放假，与周末连休。
        "dragon_boat": ("2024-06-10",),
        # 中秋节：9月15日至17日放假调休，共3天。
        "mid_autumn": ("2024-09-15", "2024-09-16", "2024-09-17"),
        # 国庆节：10月1日至7日放假调休，共7天。
        "national_day": (
            "2024-10-01", "2024-10-02", "2024-10-03", "2024-10-04",
            "2024-10-05", "2024-10-06", "2024-10-07",
        ),
    },
    2025: {
        # 元旦：1月1日（周三）放假1天，不调休。
        "new_year": ("2025-01-01",),
        # 春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。
        "spring_festival": (
            "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31",
            "2025-02-01", "2025-02-02", "2025-02-03", "2025-02-04",
        ),
        # 清明节：4月4日（周五）至6日（周日）放假，共3天。
        "qingming": ("2025-04-04", "2025-04-05", "2025-04-06"),
        # 劳动节：5月1日（周四）至5日（周一）放假调休，共5天。
        "labour_day": ("2025-05-01", "2025-05-02", "2025-05-03", "2025-05-04", "2025-05-05"),
        # 端午节：5月31日（周六）至6月2日（周一）放假，共3天。
        "dragon_boat": ("2025-05-31", "2025-06-01", "2025-06-02"),
        # 国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。
        "national_day_mid_autumn": (
            "2025-10-01", "2025-10-02", "2025-10-03", "2025-10-04",
            "2025-10-05", "2025-10-06", "2025-10-07", "2025-10-08",
        ),
    },
    2026: {
        # 元旦：1月1日（周四）至3日（周六）放假调休，共3天。
        "new_year": ("2026-01-01", "2026-01-02", "2026-01-03"),
        # 春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。
        "spring_festival": (
            "2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19",
            "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",
        ),
        # 清明节：4月4日（周六）至6日（周一）放假，共3天。
        "qingming": ("2026-04-04", "2026-04-05", "2026-04-06"),
        # 劳动节：5月1日（周五）至5日（周二）放假调休，共5天。
        "labour_day": ("2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05"),
        # 端午节：6月19日（周五）至21日（周日）放假，共3天。
        "dragon_boat": ("2026-06-19", "2026-06-20", "2026-06-21"),
        # 中秋节：9月25日（周五）至27日（周日）放假，共3天。
        "mid_autumn": ("2026-09-25", "2026-09-26", "2026-09-27"),
        # 国庆节：10月1日（周四）至7日（周三）放假调休，共7天。
        "national_day": (
            "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04",
            "2026-10-05", "2026-10-06", "2026-10-07",
        ),
    },
}  # fmt: skip

# Make-up working days (调休上班), every one each notice names.
MAKEUP_WORKING_DAYS: dict[int, tuple[str, ...]] = {
    2024: (
        "2024-02-04",  # 春节：2月4日（星期日）上班
        "2024-02-18",  # 春节：2月18日（星期日）上班
        "2024-04-07",  # 清明节：4月7日（星期日）上班
        "2024-04-28",  # 劳动节：4月28日（星期日）上班
        "2024-05-11",  # 劳动节：5月11日（星期六）上班
        "2024-09-14",  # 中秋节：9月14日（星期六）上班
        "2024-09-29",  # 国庆节：9月29日（星期日）上班
        "2024-10-12",  # 国庆节：10月12日（星期六）上班
    ),
    2025: (
        "2025-01-26",  # 春节：1月26日（周日）上班
        "2025-02-08",  # 春节：2月8日（周六）上班
        "2025-04-27",  # 劳动节：4月27日（周日）上班
        "2025-09-28",  # 国庆节、中秋节：9月28日（周日）上班
        "2025-10-11",  # 国庆节、中秋节：10月11日（周六）上班
    ),
    2026: (
        "2026-01-04",  # 元旦：1月4日（周日）上班
        "2026-02-14",  # 春节：2月14日（周六）上班
        "2026-02-28",  # 春节：2月28日（周六）上班
        "2026-05-09",  # 劳动节：5月9日（周六）上班
        "2026-09-20",  # 国庆节：9月20日（周日）上班
        "2026-10-10",  # 国庆节：10月10日（周六）上班
    ),
}

YEARS = sorted(HOLIDAYS)


def _holidays(year: int) -> set[date]:
    return {_d(t) for days in HOLIDAYS[year].values() for t in days}


def _makeup(year: int) -> set[date]:
    return {_d(t) for t in MAKEUP_WORKING_DAYS[year]}


def _every_day(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def test_the_lists_add_up_to_the_notices_counts() -> None:
    # 2024: 1+8+3+5+1+3+7; 2025: 1+8+3+5+3+8; 2026: 3+9+3+5+3+3+7.
    assert [len(_holidays(y)) for y in YEARS] == [28, 28, 33]
    assert [len(_makeup(y)) for y in YEARS] == [8, 5, 6]


@pytest.mark.parametrize("year", YEARS)
def test_every_notice_holiday_is_a_rest_day(year: int) -> None:
    for day in sorted(_holidays(year)):
        assert is_rest_day(day), day
        assert not is_working_day(day), day


@pytest.mark.parametrize("year", YEARS)
def test_every_makeup_day_is_a_working_weekend_day(year: int) -> None:
    for day in sorted(_makeup(year)):
        assert day.weekday() >= 5, f"{day} is not a Saturday or Sunday"
        assert is_working_day(day), day
        assert not is_rest_day(day), day


@pytest.mark.parametrize("year", YEARS)
def test_every_other_day_of_the_year_is_ordinary(year: int) -> None:
    holidays, makeup = _holidays(year), _makeup(year)
    for day in _every_day(year):
        expected_rest = day in holidays or (day.weekday() >= 5 and day not in makeup)
        assert is_rest_day(day) is expected_rest, day
        assert is_working_day(day) is (not expected_rest), day


def test_examples_named_in_the_brief() -> None:
    # 2024 Spring Festival off Feb 10-17, Feb 4 (Sun) and Feb 18 (Sun) working.
    assert is_working_day(date(2024, 2, 4)) and is_working_day(date(2024, 2, 18))
    assert is_rest_day(date(2024, 2, 10)) and is_rest_day(date(2024, 2, 17))
    # The eve (2024-02-09, a Friday) was only "encouraged" off: a working day.
    assert is_working_day(date(2024, 2, 9))
    # 2026 National Day: Oct 1-7 off, Sep 20 (Sun) and Oct 10 (Sat) working.
    assert is_rest_day(date(2026, 10, 7))
    assert is_working_day(date(2026, 10, 8))
    assert is_working_day(date(2026, 10, 10))
    assert is_rest_day(date(2026, 10, 11))


def test_covered_years() -> None:
    assert covered_years() == (2004, 2026)


@pytest.mark.parametrize("day", [date(2031, 3, 2), date(2027, 1, 1), date(2003, 12, 31)])
def test_an_uncovered_year_raises_and_never_guesses(day: date) -> None:
    with pytest.raises(CalendarError) as caught:
        is_working_day(day)
    assert str(caught.value) == (
        f"no holiday schedule for {day.year}: the calendar covers 2004-2026"
    )
    with pytest.raises(CalendarError):
        is_rest_day(day)


def test_uncovered_year_message_example() -> None:
    with pytest.raises(
        CalendarError, match=r"^no holiday schedule for 2031: the calendar covers 2004-2026$"
    ):
        is_rest_day(date(2031, 1, 1))


def test_calendar_error_is_a_value_error() -> None:
    assert issubclass(CalendarError, ValueError)


def test_edges_of_the_covered_range_answer() -> None:
    assert is_rest_day(date(2004, 1, 1))
    assert is_working_day(date(2026, 12, 31))  # a Thursday


def test_a_datetime_is_refused() -> None:
    with pytest.raises(TypeError, match="local_date"):
        is_working_day(datetime(2026, 10, 1, 12, 0))
