"""The `sla` role: the deadline monitor.

Obligations are opened and closed where the knowledge is (the court's entry fold, each
department's fold), which report them on sla.events. The monitor keeps every obligation in a
changelog-backed table (a restart loses no deadline; Faust's timers alone are not persistent)
and, with "now" from the wall clock, raises DeadlineBreached within seconds of a due day passing.
A breach is reported through the monitor's own topic, so the table notes it inside stream
iteration and a restart does not report it twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import faust

from shixin.domain.deadlines import local_date
from shixin.domain.obligations import Obligation, breached, deadline_event
from shixin.projections.steps import Store, sla_step
from shixin.runtime.logging import get_logger
from shixin.runtime.settings import Settings
from shixin.streams.app import guarded, make_app
from shixin.streams.counters import STATS
from shixin.streams.dead_letters import DeadLetterSink
from shixin.streams.deadline_events import decode_deadline, encode_deadline
from shixin.streams.due_index import TableDues, open_obligation_due
from shixin.streams.staged import Outbox, process_batches
from shixin.streams.topics import raw_topic

log = get_logger(__name__)


class SlaRole:
    def __init__(self, settings: Settings, bootstrap: str, **app_options: Any) -> None:
        self.settings = settings
        self.app = app = make_app("sla", settings, bootstrap, **app_options)
        self.obligations = app.Table("obligations", partitions=settings.partitions)
        self.events = raw_topic(app, settings.topic_sla_events, settings)
        self.dead_letters = DeadLetterSink(app, settings)
        app.agent(self.events, name="monitor")(guarded(app, self._monitor))
        app.timer(interval=settings.sla_check_interval)(self.check_breaches)
        # breaches reported by this process and not yet noted in the table: reported once, not
        # at every tick while the monitor is behind (a restart reports them again: noted once)
        self._reported: set[tuple[str, Any]] = set()
        # the open obligations by due date: a check reads only those whose day has passed
        self.due = TableDues(app, self.obligations, open_obligation_due)

    async def _monitor(self, stream: faust.StreamT[Any]) -> None:
        # batches like every agent: messages fetched before a rebalance are read again, not lost
        await process_batches(
            self.app, stream, self.settings, self.obligations, self._fold, written=self._written
        )

    def _written(self, writes: dict[str, Any]) -> None:
        self.due.written(writes)
        for key, record in writes.items():
            if record is not None and record.get("breach_reported"):  # noted: forget the report
                self._reported.discard((key, record["obligation"].get("due_on")))

    async def _fold(self, message: Any, obligations: Store, out: Outbox) -> None:
        change = await self.dead_letters.decoded(message, decode_deadline)
        if change is not None:
            sla_step(obligations, change)
            if change.type == "DeadlineBreached":
                STATS["deadlines_breached"] += 1

    async def check_breaches(self) -> int:
        """Report every open obligation whose due day has passed (wall clock); return how many."""
        now = datetime.now(UTC)
        reported = 0
        for obligation_id in self.due.passed(local_date(now)):
            record = self.obligations.get(obligation_id)
            if record is None:
                self.due.note(obligation_id, None)
                continue
            # the obligation as it stands: a new due day is a new deadline to report
            key = (record["obligation"]["id"], record["obligation"].get("due_on"))
            if record.get("breach_reported"):
                self._reported.discard(key)
                self.due.note(obligation_id, record)  # (out of the index)
                continue
            if key in self._reported:
                continue
            obligation = Obligation.model_validate(record["obligation"])
            if not breached(obligation, now):
                self.due.note(obligation_id, record)  # closed, or due later, since noted
            else:
                log.warning(
                    "deadline.breached",
                    obligation=obligation.id,
                    due_on=str(obligation.due_on),
                    department=obligation.department,
                    court=obligation.court,
                )
                change = deadline_event("DeadlineBreached", obligation, now)
                await self.events.send(key=obligation.id, value=encode_deadline(change))
                self._reported.add(key)
                reported += 1
        return reported
