"""One department's consumer agent: subject.status in, its sanctions table and feedback out.

Each department is its own Faust app (its own consumer group), driven by the catalog: the same
code serves every department. It also reads sanction.events for a person's confirmations of its
manual tasks from department.confirmations, records them and reports them on sanction.events,
so it is the only writer of its own feedback and never has to read the others'. Both input topics
are keyed by subject id, so they are co-partitioned with the table.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import faust
from pydantic import ValidationError

from shixin.domain.catalog import Catalog, Department
from shixin.domain.deadlines import local_date
from shixin.domain.events import SanctionEvent, SanctionsApplied, SanctionsLifted, SanctionsRetained
from shixin.domain.obligations import DeadlineEvent
from shixin.domain.reasons import describe_validation_error
from shixin.domain.sanctions import DepartmentSanction, retention_end, retention_ended
from shixin.projections.steps import Store, confirmation_step, department_step
from shixin.runtime.catalogs import policy_for
from shixin.runtime.logging import get_logger
from shixin.runtime.settings import Settings
from shixin.schemas.errors import DecodeError
from shixin.schemas.model_codec import decode_event, encode_model
from shixin.streams.app import count_feedback, guarded, make_app
from shixin.streams.dead_letters import DeadLetterSink
from shixin.streams.deadline_events import encode_deadline
from shixin.streams.due_index import TableDues, retention_due
from shixin.streams.staged import Outbox, process_batches
from shixin.streams.subject_status import decode_status
from shixin.streams.topics import raw_topic

log = get_logger(__name__)


def table_name(department_id: str) -> str:
    return f"sanctions-{department_id}"


class DepartmentRole:
    def __init__(
        self,
        settings: Settings,
        bootstrap: str,
        catalog: Catalog,
        department: Department,
        **app_options: Any,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.department = department
        self.policy = policy_for(settings)
        self.app = app = make_app(f"department-{department.id}", settings, bootstrap, **app_options)
        self.sanctions = app.Table(table_name(department.id), partitions=settings.partitions)
        self.status = raw_topic(app, settings.topic_subject_status, settings)
        self.feedback = raw_topic(app, settings.topic_sanction_events, settings)
        self.confirmations = raw_topic(app, settings.topic_confirmations, settings)
        self.sla = raw_topic(app, settings.topic_sla_events, settings)
        self.dead_letters = DeadLetterSink(app, settings)
        # the status and confirmation agents change the same table across an await (staged.py)
        self._table_lock = asyncio.Lock()
        app.agent(self.status, name="status")(guarded(app, self._on_status))
        app.agent(self.confirmations, name="confirmations")(guarded(app, self._on_confirmation))
        app.timer(interval=settings.retention_check_interval)(self.end_retentions)
        # the rows with a retention, by its end date (a check reads only those ended)
        self.retentions = TableDues(app, self.sanctions, retention_due)

    def action_time(self) -> datetime | None:
        """The wall clock live; None for the event clock (run and replay)."""
        return None if self.settings.action_clock == "event" else datetime.now(UTC)

    async def _on_status(self, stream: faust.StreamT[Any]) -> None:
        await process_batches(
            self.app,
            stream,
            self.settings,
            self.sanctions,
            self._status,
            self._table_lock,
            written=self.retentions.written,
        )

    async def _status(self, message: Any, sanctions: Store, out: Outbox) -> None:
        status = await self.dead_letters.decoded(message, decode_status)
        if status is None:
            return
        feedback, deadlines = department_step(
            sanctions, status, self.catalog, self.department, self.action_time(), self.policy
        )
        for item in feedback:
            log.info(
                "sanction." + item.type,
                department=item.department,
                subject_id=item.subject_id,
                measures=list(item.measures),
            )
            await out.send(self.feedback, item.subject_id, encode_model(item))
            count_feedback(item.type)
        await self._send_deadlines(out, deadlines)

    async def _on_confirmation(self, stream: faust.StreamT[Any]) -> None:
        await process_batches(
            self.app,
            stream,
            self.settings,
            self.sanctions,
            self._confirmation,
            self._table_lock,
            written=self.retentions.written,
        )

    async def _confirmation(self, message: Any, sanctions: Store, out: Outbox) -> None:
        try:
            item = decode_event(message.value)
            reason = f"{item.type} is not a department confirmation"
        except DecodeError as exc:
            item = None
            reason = exc.reason
        except ValidationError as exc:
            item = None
            reason = describe_validation_error(exc)
        if isinstance(item, SanctionsApplied | SanctionsLifted | SanctionsRetained):
            if item.department == self.department.id:
                await self._confirm(message, item, sanctions, out)
        elif self.department.id == self.catalog.departments[0].id:
            # one department speaks for the topic, so a bad message is one dead letter
            await self.dead_letters.send(message, reason)

    async def _confirm(
        self, message: Any, item: SanctionEvent, sanctions: Store, out: Outbox
    ) -> None:
        ours = item.origin == "agent" and isinstance(item, SanctionsLifted)
        if ours:
            # our own timer: a retention ended (ignored if a person lifted it meanwhile)
            raw = sanctions.get(item.subject_id)
            row = DepartmentSanction.model_validate(raw) if raw is not None else None
            if row is None or not retention_ended(row, local_date(item.at)):
                return
        if item.origin != "person" and not ours:
            await self.dead_letters.send(
                message, "a confirmation must have origin person", str(item.event_id)
            )
        elif (deadlines := confirmation_step(sanctions, item)) is not None:
            await out.send(self.feedback, item.subject_id, encode_model(item))
            count_feedback(item.type)
            await self._send_deadlines(out, deadlines)
        else:
            await self.dead_letters.send(
                message,
                f"{item.type} for {item.subject_id}: department {item.department} has no "
                "task for this subject",
                str(item.event_id),
            )

    async def _send_deadlines(self, out: Outbox, deadlines: list[DeadlineEvent]) -> None:
        for change in deadlines:
            await out.send(self.sla, change.obligation.id, encode_deadline(change))

    async def end_retentions(self) -> int:
        """Lift every retention whose end date has passed (wall clock); return how many.

        The lift goes through our own confirmations topic, so the table changes inside stream
        processing like any confirmation."""
        if self.settings.action_clock == "event":
            return 0  # run and replay judge retentions at --now instead
        now = datetime.now(UTC)
        today = local_date(now)
        ended = 0
        for subject_id in self.retentions.passed(today):
            raw = self.sanctions.get(subject_id)
            row = DepartmentSanction.model_validate(raw) if raw is not None else None
            if row is None or not retention_ended(row, today):
                self.retentions.note(subject_id, raw)  # lifted or moved on since noted
                continue
            lift = retention_end(row, now)
            await self.confirmations.send(key=row.subject_id, value=encode_model(lift))
            ended += 1
        return ended
