"""The sla role's open obligations by due date: what a breach check looks at.

The monitor checks for passed deadlines every few seconds. Going through every obligation of its
table at each check, parsing and judging the open ones, took about 2 µs per obligation: with the
five or so per subject of a million subjects, 10 s of work every 5 s. This index keeps the open
obligations with a due date and no breach reported, in due-date order, so a check reads those
due before today only, then judges each against the table (the truth) as before.

It follows the table's writes (`note`, after the monitor's batch is written) and is built again
from the table after every rebalance and table recovery (`rebuild`): the rows of partitions
taken over come through the recovery, not the monitor's writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sortedcontainers import SortedList


class DueIndex:
    def __init__(self) -> None:
        self._due = SortedList()  # (due date's ISO text, obligation id)
        self._of: dict[str, str] = {}  # obligation id -> its due date's ISO text

    def __len__(self) -> int:
        return len(self._of)

    def note(self, key: str, record: dict[str, Any] | None) -> None:
        """The monitor's record of `key` now (None: deleted)."""
        old = self._of.pop(key, None)
        if old is not None:
            self._due.remove((old, key))
        if record is None or record.get("breach_reported"):
            return
        obligation = record["obligation"]
        due = obligation.get("due_on")
        if due is None or obligation.get("closed_at") is not None:
            return
        self._of[key] = due
        self._due.add((due, key))

    def rebuild(self, records: Iterable[tuple[str, dict[str, Any]]]) -> None:
        self._due.clear()
        self._of.clear()
        for key, record in records:
            self.note(key, record)

    def passed(self, today: date) -> list[str]:
        """The obligations due before `today` (`domain.deadlines.verdict`: breached if open)."""
        end = self._due.bisect_left((today.isoformat(), ""))
        return [key for _, key in self._due.islice(0, end)]
