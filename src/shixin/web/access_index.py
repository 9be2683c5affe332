"""The access-log records an api worker keeps, listed for an auditor's questions: of everyone,
by one reader (`who`) or about one subject, the newest first.

`GET /v1/access-log` used to filter every kept record (up to 100,000) at each request. Each
record is also appended to its reader's and its subjects' listings as it is replicated (a few
appends: every check writes a record that every api worker replicates, so this cost is paid
per check, not per question), and a question reads the narrowest listing. Past `capacity` the
records that came first are forgotten (the topic keeps them all)."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

_EARLIEST = datetime.min.replace(tzinfo=UTC)


def logged_at(record: dict[str, Any]) -> datetime:
    """When a record was written; one without a readable time (with its offset) counts as the
    oldest."""
    try:
        at = datetime.fromisoformat(record["at"])
    except (KeyError, TypeError, ValueError):
        return _EARLIEST
    return at if at.tzinfo is not None else _EARLIEST


def _names(record: dict[str, Any]) -> tuple[str | None, Iterable[str]]:
    who = record.get("who")
    subjects: Sequence[Any] = record.get("subjects") or ()
    if len(subjects) == 1:  # a check's record: most of them
        names: Iterable[str] = subjects if isinstance(subjects[0], str) else ()
    else:
        names = {s for s in subjects if isinstance(s, str)}
    return (who if isinstance(who, str) else None), names


class AccessIndex:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._records: deque[dict[str, Any]] = deque()  # in the order they came
        self._by_who: dict[str, deque[dict[str, Any]]] = {}
        self._by_subject: dict[str, deque[dict[str, Any]]] = {}

    def __len__(self) -> int:
        return len(self._records)

    def extend(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self.add(record)

    def add(self, record: dict[str, Any]) -> None:
        self._records.append(record)
        who, subjects = _names(record)
        if who is not None:
            self._by_who.setdefault(who, deque()).append(record)
        for subject in subjects:
            self._by_subject.setdefault(subject, deque()).append(record)
        if len(self._records) > self.capacity:
            self._forget(self._records.popleft())

    def _forget(self, record: dict[str, Any]) -> None:
        """The first record that came: also the first of each of its listings."""
        who, subjects = _names(record)
        for index, name in [(self._by_who, who)] + [(self._by_subject, s) for s in subjects]:
            if name is None:
                continue
            listing = index[name]
            listing.popleft()
            if not listing:
                del index[name]

    def newest(self, subject: str | None, who: str | None, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` records about `subject` and by `who` (None: any), the newest first
        (records arrive partition by partition, not in time order; of two written at the same
        time, the one that came first)."""
        listing: deque[dict[str, Any]] = self._records
        if subject is not None:
            listing = min(listing, self._by_subject.get(subject) or deque(), key=len)
        if who is not None:
            listing = min(listing, self._by_who.get(who) or deque(), key=len)
        matching = (
            record
            for record in listing
            if (subject is None or subject in (record.get("subjects") or ()))
            and (who is None or record.get("who") == who)
        )
        return heapq.nlargest(limit, matching, key=logged_at)
