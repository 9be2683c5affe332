"""The PRC public-holiday and make-up working-day (调休) calendar.

The data comes from the maintained PyPI package ``chinesecalendar`` (import name
``chinese_calendar``), which transcribes each year's State Council notice
(国务院办公厅关于…年部分节假日安排的通知). Importing it is reading data, not I/O.

A rest day is a Saturday or Sunday that is not a make-up working day, or a day the notice gives
off. A working day is any other day, including a make-up Saturday or Sunday. A date in a year the
library does not cover raises :class:`CalendarError`: the core never guesses a schedule.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

import chinese_calendar  # type: ignore[import-untyped]

__all__ = ["CalendarError", "covered_years", "is_rest_day", "is_working_day"]


class CalendarError(ValueError):
    """The calendar cannot say whether a date is a working day (its year is not covered)."""


def _years() -> tuple[int, int]:
    # The same bounds the library itself checks against (utils._validate_date).
    known: list[date] = list(chinese_calendar.holidays)
    return min(known).year, max(known).year


_FIRST_YEAR, _LAST_YEAR = _years()


def covered_years() -> tuple[int, int]:
    """The first and last year (inclusive) whose holiday schedule the calendar holds."""
    return _FIRST_YEAR, _LAST_YEAR


def _uncovered(year: int) -> CalendarError:
    return CalendarError(
        f"no holiday schedule for {year}: the calendar covers {_FIRST_YEAR}-{_LAST_YEAR}"
    )


def is_working_day(d: date) -> bool:
    """True for a working day (a make-up Saturday or Sunday counts), False for a rest day.

    ``d`` must be a calendar date (a :class:`datetime` is refused: take its China Standard Time
    date first, with :func:`shixin.domain.deadlines.local_date`).
    """
    if isinstance(d, datetime):
        raise TypeError("pass a date, not a datetime (take its CST date with local_date)")
    return _working(d)


@cache  # bounded: only the covered years' days are remembered (no error)
def _working(d: date) -> bool:
    if not _FIRST_YEAR <= d.year <= _LAST_YEAR:
        raise _uncovered(d.year)
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError as exc:  # the library's "no available data for year ..."
        raise _uncovered(d.year) from exc


def is_rest_day(d: date) -> bool:
    """True for a weekend day that is not a make-up working day, or a public holiday."""
    return not is_working_day(d)
