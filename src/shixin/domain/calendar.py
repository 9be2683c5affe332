"""The PRC public-holiday and make-up working-day (调休) calendar.

The data comes from the maintained PyPI package ``chinesecalendar`` (import name
``chinese_calendar``), which transcribes each year's State Council notice
(国务院办公厅关于…年部分节假日安排的通知). Importing it is reading data, not I/O.

A rest day is a Saturday or Sunday that is not a make-up working day, or a day the notice gives
off. A working day is any other day, including a make-up Saturday or Sunday. A date in a year the
library does not cover raises :class:`CalendarError`: the core never guesses a schedule.

The State Council publishes a year's notice in the autumn before it; the library ships it some
time later. Meanwhile operators supply the year themselves (:class:`YearSchedule`, installed with
:func:`install_schedules` from the file the settings name): every process that computes
deadlines, and the offline replay, must be given the same file. A supplied year the library
covers must agree with it day for day (a disagreement is a mistake in the file, refused).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from functools import cache

import chinese_calendar  # type: ignore[import-untyped]
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "CalendarError",
    "YearSchedule",
    "covered_years",
    "install_schedules",
    "is_rest_day",
    "is_working_day",
    "library_years",
    "on_schedules_changed",
    "parse_schedules",
    "supplied_schedules",
]


class CalendarError(ValueError):
    """The calendar cannot say whether a date is a working day (its year is not covered)."""


def _years() -> tuple[int, int]:
    # The same bounds the library itself checks against (utils._validate_date).
    known: list[date] = list(chinese_calendar.holidays)
    return min(known).year, max(known).year


_FIRST_YEAR, _LAST_YEAR = _years()


class YearSchedule(BaseModel):
    """One year's schedule as the State Council's notice gives it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=1949, le=2200)
    # the notice it transcribes (国办发明电〔…〕…号), for whoever checks the file
    notice: str | None = None
    # the days given off (放假), weekdays and weekend days alike
    holidays: tuple[date, ...] = Field(min_length=1)
    # the make-up working days (调休上班): Saturdays and Sundays worked
    working_days: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> YearSchedule:
        outside = [d for d in (*self.holidays, *self.working_days) if d.year != self.year]
        if outside:
            raise ValueError(f"{outside[0].isoformat()} is not in {self.year}")
        weekdays = [d for d in self.working_days if d.weekday() < 5]
        if weekdays:
            raise ValueError(
                f"make-up working day {weekdays[0].isoformat()} is a weekday (they are weekend "
                "days; a weekday is a working day anyway)"
            )
        both = sorted(set(self.holidays) & set(self.working_days))
        if both:
            raise ValueError(f"{both[0].isoformat()} is both a holiday and a working day")
        return self

    def is_working_day(self, d: date) -> bool:
        if d in self.working_days:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def days(self) -> list[date]:
        first = date(self.year, 1, 1)
        return [first + timedelta(days=n) for n in range((date(self.year + 1, 1, 1) - first).days)]


class _DatesAsText(yaml.SafeLoader):
    """YAML's safe loader, leaving dates as text for the model to check (its errors name the
    field: ``holidays.3``; YAML's own say only "day is out of range for month")."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_schedules(text: str) -> list[YearSchedule]:
    """A schedules file's text (YAML: a list of years, each ``year``, ``notice``, ``holidays``,
    ``working_days``); raises ValueError (pydantic's ValidationError) naming what is wrong."""
    data = yaml.load(text, Loader=_DatesAsText)  # a SafeLoader (above)
    if data is None:
        return []
    if not isinstance(data, list):
        raise ValueError("a holiday schedules file is a list of years (- year: 2027 ...)")
    schedules = [YearSchedule.model_validate(item) for item in data]
    years = [s.year for s in schedules]
    repeated = sorted({y for y in years if years.count(y) > 1})
    if repeated:
        raise ValueError(f"{repeated[0]} is given more than once")
    return schedules


_supplied: dict[int, YearSchedule] = {}
_listeners: list[Callable[[], None]] = []


def on_schedules_changed(listener: Callable[[], None]) -> None:
    """Call `listener` whenever the supplied schedules change (caches of due dates clear)."""
    _listeners.append(listener)


def install_schedules(schedules: Iterable[YearSchedule]) -> bool:
    """Make these years' schedules part of the calendar, replacing any supplied before; False
    when they are the ones already installed (nothing changes, no cache is cleared).

    Raises CalendarError for a year the library covers whose supplied schedule differs from it."""
    by_year = {s.year: s for s in schedules}
    if by_year == _supplied:
        return False
    for year, schedule in by_year.items():
        if _FIRST_YEAR <= year <= _LAST_YEAR:
            differ = [
                d for d in schedule.days() if schedule.is_working_day(d) != _library_working(d)
            ]
            if differ:
                raise CalendarError(
                    f"the supplied {year} schedule differs from the holiday calendar's on "
                    f"{len(differ)} day(s), the first {differ[0].isoformat()}: correct the file"
                )
    _supplied.clear()
    _supplied.update(by_year)
    _working.cache_clear()
    for listener in _listeners:
        listener()
    return True


def library_years() -> tuple[int, int]:
    """The first and last year the calendar library itself holds."""
    return _FIRST_YEAR, _LAST_YEAR


def supplied_schedules() -> tuple[YearSchedule, ...]:
    """The schedules supplied (not from the library), by year."""
    return tuple(_supplied[year] for year in sorted(_supplied))


def covered_years() -> tuple[int, int]:
    """The first and last year (inclusive) of the calendar's unbroken run of covered years:
    the library's, extended by supplied years that adjoin it."""
    first, last = _FIRST_YEAR, _LAST_YEAR
    while first - 1 in _supplied:
        first -= 1
    while last + 1 in _supplied:
        last += 1
    return first, last


def _uncovered(year: int) -> CalendarError:
    first, last = covered_years()
    return CalendarError(f"no holiday schedule for {year}: the calendar covers {first}-{last}")


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
    supplied = _supplied.get(d.year)
    if supplied is not None:
        return supplied.is_working_day(d)
    return _library_working(d)


def _library_working(d: date) -> bool:
    if not _FIRST_YEAR <= d.year <= _LAST_YEAR:
        raise _uncovered(d.year)
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError as exc:  # the library's "no available data for year ..."
        raise _uncovered(d.year) from exc


def is_rest_day(d: date) -> bool:
    """True for a weekend day that is not a make-up working day, or a public holiday."""
    return not is_working_day(d)
