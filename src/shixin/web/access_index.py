"""The access-log records an api worker keeps, indexed for an auditor's questions: the newest
first, of everyone, of one reader (`who`) or about one subject.

`GET /v1/access-log` used to filter and sort every kept record (up to 100,000) at each request,
about 100 ms. Here each record takes its place as it is replicated (records arrive partition by
partition, not in time order), and a page reads back from the newest of the narrowest listing
until it holds `limit` records. Past `capacity` the oldest records are forgotten (the topic
keeps them all)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import count
from typing import Any

from sortedcontainers import SortedList

_EARLIEST = datetime.min.replace(tzinfo=UTC)

Key = tuple[datetime, int]  # when it was written, then the order it came in


def logged_at(record: dict[str, Any]) -> datetime:
    """When a record was written; one without a readable time (with its offset) counts as the
    oldest."""
    try:
        at = datetime.fromisoformat(record["at"])
    except (KeyError, TypeError, ValueError):
        return _EARLIEST
    return at if at.tzinfo is not None else _EARLIEST


def _names(record: dict[str, Any]) -> tuple[str | None, set[str]]:
    who = record.get("who")
    subjects = record.get("subjects") or ()
    return (who if isinstance(who, str) else None), {s for s in subjects if isinstance(s, str)}


class AccessIndex:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._records: dict[Key, dict[str, Any]] = {}
        self._all: SortedList[Key] = SortedList()
        self._by_who: dict[str, SortedList[Key]] = {}
        self._by_subject: dict[str, SortedList[Key]] = {}
        self._arrival = count()

    def __len__(self) -> int:
        return len(self._records)

    def extend(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self.add(record)

    def add(self, record: dict[str, Any]) -> None:
        key = (logged_at(record), next(self._arrival))
        self._records[key] = record
        self._all.add(key)
        who, subjects = _names(record)
        if who is not None:
            self._by_who.setdefault(who, SortedList()).add(key)
        for subject in subjects:
            self._by_subject.setdefault(subject, SortedList()).add(key)
        while len(self._all) > self.capacity:
            self._forget(self._all[0])

    def _forget(self, key: Key) -> None:
        record = self._records.pop(key)
        self._all.remove(key)
        who, subjects = _names(record)
        for index, name in [(self._by_who, who)] + [(self._by_subject, s) for s in subjects]:
            if name is None:
                continue
            listing = index[name]
            listing.remove(key)
            if not listing:
                del index[name]

    def newest(self, subject: str | None, who: str | None, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` records, the newest first, about `subject` and by `who` (None: any)."""
        listings = [self._all]
        if subject is not None:
            listings.append(self._by_subject.get(subject) or SortedList())
        if who is not None:
            listings.append(self._by_who.get(who) or SortedList())
        shortest = min(listings, key=len)
        found = []
        for key in reversed(shortest):
            record = self._records[key]
            if subject is not None and subject not in (record.get("subjects") or ()):
                continue
            if who is not None and record.get("who") != who:
                continue
            found.append(record)
            if len(found) == limit:
                break
        return found
