"""Deadline arithmetic in China Standard Time (DOMAIN §3, DESIGN §4 and §7).

Every deadline is a date in China Standard Time (UTC+08:00) and ends at 24:00 that day, whatever
offset the event times carry. Two units:

* ``days``: counted as in the Civil Procedure Law (2023 text), Art. 85: the start day is not
  counted (day 1 is the day after); if the last day is a rest day (a weekend day or a public
  holiday; a make-up working Saturday or Sunday is a working day), the period ends on the first
  working day after it.
* ``working_days``: only working days after the start day count; length N ends on the N-th
  working day after the start date.

The calendar comes from :mod:`shixin.domain.calendar`; a date it does not cover raises
:class:`shixin.domain.calendar.CalendarError` rather than a guess.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Literal, TypeAlias

from shixin.domain.calendar import is_rest_day, is_working_day, on_schedules_changed

__all__ = ["CST", "Unit", "Verdict", "due_date", "local_date", "verdict"]

CST = timezone(timedelta(hours=8))
Unit: TypeAlias = Literal["days", "working_days"]
Verdict: TypeAlias = Literal["open", "met", "missed", "breached"]

_ONE_DAY = timedelta(days=1)


def local_date(t: datetime) -> date:
    """The China Standard Time calendar date of an aware datetime (a naive one is refused)."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{t.isoformat()} has no UTC offset: event times must be aware")
    return t.astimezone(CST).date()


def _start_date(start: datetime | date) -> date:
    # datetime is a subclass of date: test it first.
    if isinstance(start, datetime):
        return local_date(start)
    return start


def due_date(start: datetime | date, length: int, unit: Unit) -> date:
    """The last day (CST) of a period of ``length`` ``unit`` that starts at ``start``.

    ``start`` is the triggering moment (its CST date is used) or a date. ``length`` must be at
    least 1.
    """
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"a period's length must be a whole number of at least 1, got {length!r}")
    return _due(_start_date(start), length, unit)


@lru_cache(maxsize=65_536)  # every obligation opened on the same day has the same due date
def _due(day: date, length: int, unit: Unit) -> date:
    if unit == "days":
        # Art. 85: the start day is not counted; a last day that is a rest day rolls forward to
        # the first working day after it.
        day += timedelta(days=length)
        while is_rest_day(day):
            day += _ONE_DAY
        return day
    if unit == "working_days":
        counted = 0
        while counted < length:
            day += _ONE_DAY
            if is_working_day(day):
                counted += 1
        return day
    raise ValueError(f"unknown period unit {unit!r}: expected 'days' or 'working_days'")


on_schedules_changed(_due.cache_clear)


def verdict(due_on: date, closed_at: datetime | None, now: datetime) -> Verdict:
    """Judge a deadline at ``now`` (DESIGN §7).

    ``met``: closed on or before ``due_on`` (the CST date of ``closed_at``); ``missed``: closed
    after it; ``breached``: still open and the CST date of ``now`` is after ``due_on``; ``open``
    otherwise. The deadline ends at 24:00 CST on ``due_on``.
    """
    today = local_date(now)
    if closed_at is not None:
        return "met" if local_date(closed_at) <= due_on else "missed"
    return "breached" if today > due_on else "open"
