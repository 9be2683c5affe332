"""The `court` role: intake (decode, validate, dedupe, entry fold) and the subject fold.

court.events (key: entry id) -> intake -> entry facets repartitioned by subject id -> subject fold
-> subject.status (key: subject id). The agents are thin: the work is in
`shixin.projections.steps`, which the offline replay calls too.
"""

from __future__ import annotations

from typing import Any

import faust
from pydantic import ValidationError

from shixin.domain.entries import LifecycleError
from shixin.domain.events import COURT_EVENT_TYPES, CourtEvent
from shixin.domain.reasons import describe_validation_error
from shixin.domain.subjects import EntryFacet
from shixin.projections.steps import Store, intake_step, subject_step
from shixin.runtime.catalogs import policy_for
from shixin.runtime.logging import get_logger
from shixin.runtime.settings import Settings
from shixin.schemas.errors import DecodeError
from shixin.schemas.model_codec import decode_event
from shixin.streams.app import guarded, make_app
from shixin.streams.dead_letters import DeadLetterSink
from shixin.streams.deadline_events import encode_deadline
from shixin.streams.staged import Outbox, process_batches
from shixin.streams.subject_status import encode_status
from shixin.streams.topics import facets_topic_name, key_bytes, raw_topic

log = get_logger(__name__)


def decode_court_event(value: bytes) -> CourtEvent:
    """Bytes from court.events to a validated court event (DecodeError / ValidationError)."""
    event = decode_event(value)
    if not isinstance(event, COURT_EVENT_TYPES):
        raise DecodeError(f"{event.type} is not a court event")
    return event


def position_of(message: Any) -> str:
    return f"{message.topic}/{message.partition}@{message.offset}"


class CourtRole:
    def __init__(self, settings: Settings, bootstrap: str, **app_options: Any) -> None:
        self.settings = settings
        self.policy = policy_for(settings)
        self.app = app = make_app("court", settings, bootstrap, **app_options)
        self.entries = app.Table("entries", partitions=settings.partitions)
        self.subjects = app.Table("subjects", partitions=settings.partitions)
        self.court_events = raw_topic(app, settings.topic_court_events, settings, raw_keys=True)
        self.facets = raw_topic(app, facets_topic_name(settings), settings, internal=True)
        self.status = raw_topic(app, settings.topic_subject_status, settings)
        self.sla = raw_topic(app, settings.topic_sla_events, settings)
        self.dead_letters = DeadLetterSink(app, settings)
        app.agent(self.court_events, name="intake")(guarded(app, self._intake))
        app.agent(self.facets, name="subject_fold")(guarded(app, self._subject_fold))

    async def _intake(self, stream: faust.StreamT[Any]) -> None:
        await process_batches(
            self.app, stream, self.settings, self.entries, self.handle_court_message
        )

    async def handle_court_message(self, message: Any, entries: Store, out: Outbox) -> None:
        value = message.value
        event_id: str | None = None
        try:
            if not isinstance(value, bytes):
                raise DecodeError("empty message (no value)")
            court_event = decode_court_event(value)
            event_id = str(court_event.event_id)
            facets, deadlines = intake_step(entries, court_event, position_of(message), self.policy)
        except DecodeError as exc:
            await self.dead_letters.send(message, exc.reason)
            return
        except ValidationError as exc:
            await self.dead_letters.send(message, describe_validation_error(exc))
            return
        except LifecycleError as exc:
            await self.dead_letters.send(message, str(exc), event_id)
            return
        except Exception as exc:  # a bug must not stop the court's stream: keep it and go on
            log.exception("intake.failed", offset=message.offset, partition=message.partition)
            await self.dead_letters.send(message, f"could not process: {exc!r}", event_id)
            return
        for facet in facets:
            await out.send(self.facets, facet.subject_id, facet.model_dump_json().encode())
        for change in deadlines:
            await out.send(self.sla, change.obligation.id, encode_deadline(change))

    async def _subject_fold(self, stream: faust.StreamT[Any]) -> None:
        await process_batches(self.app, stream, self.settings, self.subjects, self._fold_facet)

    async def _fold_facet(self, message: Any, subjects: Store, out: Outbox) -> None:
        facet = EntryFacet.model_validate_json(message.value or b"")
        status = subject_step(subjects, facet)
        if status is not None:
            await out.send(self.status, status.subject_id, encode_status(status))


__all__ = ["CourtRole", "decode_court_event", "key_bytes", "position_of"]
