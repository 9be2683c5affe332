"""Rows of a table by a due date, for the checks a timer makes: the sla role's passed
deadlines, a department's ended retentions.

The sla monitor checks for passed deadlines every few seconds, a department for ended
retentions every minute. Going through every row of the table at each check, parsing and
judging them, took about 2 µs per obligation (the sla role) and more per department row: with
the five or so obligations and 33 department rows per subject of a million subjects, the sla
role had 10 s of work every 5 s and each department a parse of its million rows every minute.
This index keeps the rows that have a due date (`due`: an open obligation with no breach
reported; a retention), in due-date order, so a check reads those due before today only, then
judges each against the table (the truth) as before.

It follows the table's writes (`note`, after a batch is written) and is built again from the
table after every rebalance and table recovery (`rebuild`): the rows of partitions taken over
come through the recovery, not the agents' writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from sortedcontainers import SortedList

from shixin.runtime.logging import get_logger

log = get_logger(__name__)

Due = Callable[[dict[str, Any]], str | None]  # a row's due date (ISO text), None: not due


def open_obligation_due(record: dict[str, Any]) -> str | None:
    """The sla monitor's record: its due date while open and no breach was reported."""
    if record.get("breach_reported"):
        return None
    obligation = record["obligation"]
    if obligation.get("closed_at") is not None:
        return None
    due: str | None = obligation.get("due_on")
    return due


def retention_due(row: dict[str, Any]) -> str | None:
    """A department's row: the date its retention ends (`domain.sanctions.retention_ended`)."""
    until: str | None = row.get("retained_until") if row.get("retained") else None
    return until


class DueIndex:
    def __init__(self, due: Due) -> None:
        self._due_of = due
        self._due = SortedList()  # (due date's ISO text, key)
        self._of: dict[str, str] = {}  # key -> its due date's ISO text

    def __len__(self) -> int:
        return len(self._of)

    def note(self, key: str, record: dict[str, Any] | None) -> None:
        """The table's row of `key` now (None: deleted)."""
        old = self._of.pop(key, None)
        if old is not None:
            self._due.remove((old, key))
        due = None if record is None else self._due_of(record)
        if due is not None:
            self._of[key] = due
            self._due.add((due, key))

    def rebuild(self, records: Iterable[tuple[str, dict[str, Any]]]) -> None:
        self._due.clear()
        self._of.clear()
        for key, record in records:
            self.note(key, record)

    def passed(self, today: date) -> list[str]:
        """The rows due before `today` (`domain.deadlines.verdict`: an open obligation is then
        breached; `domain.sanctions.retention_ended`: the retention has ended)."""
        end = self._due.bisect_left((today.isoformat(), ""))
        return [key for _, key in self._due.islice(0, end)]


class TableDues:
    """A `DueIndex` kept over an app's table: told the table's writes (`written`, the batch
    processor's hook), built again from the table at the first look and after every rebalance
    (Faust's `on_rebalance_complete`, sent once a recovery has written the rows of the
    partitions taken over, which never pass through the agents)."""

    def __init__(self, app: Any, table: Mapping[str, Any], due: Due) -> None:
        self.index = DueIndex(due)
        self._table = table
        self._stale = True
        # weakly: the signal's receivers are shared by every app of the class (mode), keyed by
        # the app; a stopped role must not stay referenced there
        app.on_rebalance_complete.connect(self._rebalanced, weak=True)

    def _rebalanced(self, sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        self._stale = True

    def written(self, writes: Mapping[str, Any]) -> None:
        for key, row in writes.items():
            self.index.note(key, row)

    def note(self, key: str, row: dict[str, Any] | None) -> None:
        """The table's row of `key` as a check found it (out of the index when no longer due)."""
        self.index.note(key, row)

    def passed(self, today: date) -> list[str]:
        """The keys due before `today` (the index built again first if the table moved)."""
        if self._stale:
            self._stale = False
            self.index.rebuild(list(self._table.items()))
            log.info("due_index.built", rows=len(self._table), due=len(self.index))
        return self.index.passed(today)
