"""Offline replay: rebuild every projection with the pure core, no broker.

It calls the very steps the live agents call (`shixin.projections.steps`), in the same way, and
computes the positions (partition, offset) the live pipeline would have given each event, so that
`replay --dump` and `run --dump` write byte-identical files.
"""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from aiokafka.partitioner import murmur2
from pydantic import ValidationError

from shixin.domain.catalog import Catalog, Department
from shixin.domain.entries import Entry, LifecycleError
from shixin.domain.events import (
    ANY_EVENT_ADAPTER,
    AnyEvent,
    CourtEvent,
    SanctionsApplied,
    SanctionsLifted,
    SanctionsRetained,
    event_time,
)
from shixin.domain.policy import DeadlinePolicy
from shixin.domain.reasons import describe_validation_error
from shixin.domain.sanctions import DepartmentSanction
from shixin.domain.subjects import SubjectState, SubjectStatus
from shixin.projections import dumps
from shixin.projections.steps import (
    ModelStore,
    Store,
    confirmation_step,
    department_step,
    intake_step,
    subject_step,
)
from shixin.runtime.settings import Settings
from shixin.streams.topics import key_bytes


def partition_for(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives this key (murmur2, as aiokafka does)."""
    return int(murmur2(key_bytes(key)) & 0x7FFFFFFF) % partitions


class Replay:
    def __init__(self, settings: Settings, catalog: Catalog, policy: DeadlinePolicy) -> None:
        self.settings = settings
        self.catalog = catalog
        self.policy = policy
        self.latest: datetime | None = None  # the latest event time seen: the default "now"
        self.until: datetime | None = None  # events later than this are left out
        # models kept as models: no validation of every row read back (steps.ModelStore); the
        # least recently used beyond `replay_hot_rows` per table packed (memory at scale)
        hot = settings.replay_hot_rows
        self.entries: Store = ModelStore(Entry, hot)
        self.subjects: Store = ModelStore(SubjectState, hot)
        self.sanctions: dict[str, Store] = {
            d.id: ModelStore(DepartmentSanction, hot) for d in catalog.departments
        }
        self.dead_letters: list[dict[str, Any]] = []
        self._next_offset: dict[tuple[str, int], int] = defaultdict(int)
        self.events = 0
        # sees every event taken in and every department action, with the reason if it was
        # refused (the audit report's subject timeline); None: nobody watches
        self.observer: Callable[[AnyEvent, str | None], None] | None = None

    def _position(self, topic: str, key: str) -> tuple[int, int]:
        partition = partition_for(key, self.settings.partitions)
        offset = self._next_offset[(topic, partition)]
        self._next_offset[(topic, partition)] += 1
        return partition, offset

    def court_event(self, event: CourtEvent, partition: int, offset: int) -> None:
        topic = self.settings.topic_court_events
        try:
            facets, _deadlines = intake_step(
                self.entries, event, f"{topic}/{partition}@{offset}", self.policy
            )
        except LifecycleError as exc:
            self.dead_letter(str(exc), topic, partition, offset, str(event.event_id))
            self._observe(event, str(exc))
            return
        self._observe(event, None)
        for facet in facets:
            status = subject_step(self.subjects, facet)
            if status is not None:
                self.department_folds(status)

    def department_folds(self, status: SubjectStatus) -> None:
        """Fold a subject's new status into each department's table."""
        for department in self.folding_departments(status):
            feedback, _ = department_step(
                self.sanctions[department.id], status, self.catalog, department, None, self.policy
            )
            for action in feedback:
                self._observe(action, None)

    def folding_departments(self, status: SubjectStatus) -> list[Department]:
        """The departments whose measures can bind this subject, and any holding a row for it
        already (a correction may have changed the roles it is named in): any other
        department's fold returns nothing (on_status returns None for it)."""
        roles = {role for entry in status.entries for role in entry.roles}
        binding = self.catalog.department_ids_binding(status.kind, roles)
        return [
            d
            for d in self.catalog.departments
            if d.id in binding or status.subject_id in self.sanctions[d.id]
        ]

    def _observe(self, event: AnyEvent, refused: str | None) -> None:
        if self.observer is not None:
            self.observer(event, refused)

    def note_time(self, moment: datetime) -> None:
        self.latest = moment if self.latest is None else max(self.latest, moment)

    def event(self, event: AnyEvent) -> None:
        """One event as `shixin publish` would have placed it (positions count every event,
        also those left out by `until`)."""
        confirmation = isinstance(event, SanctionsApplied | SanctionsLifted | SanctionsRetained)
        topic = (
            self.settings.topic_confirmations if confirmation else self.settings.topic_court_events
        )
        key = event.subject_id if confirmation else event.entry_id  # type: ignore[union-attr]
        partition, offset = self._position(topic, key)
        if self.until is not None and event_time(event) > self.until:
            return
        self.events += 1
        self.note_time(event_time(event))
        if isinstance(event, SanctionsApplied | SanctionsLifted | SanctionsRetained):
            if event.origin == "person" and event.department in self.sanctions:
                found = confirmation_step(self.sanctions[event.department], event)
                self._observe(event, None if found is not None else "no such task to confirm")
            return
        self.court_event(event, partition, offset)

    def dead_letter(
        self, reason: str, topic: str, partition: int, offset: int, event_id: str | None
    ) -> None:
        self.dead_letters.append(
            {
                "event_id": event_id,
                "reason": reason,
                "topic": topic,
                "partition": partition,
                "offset": offset,
            }
        )

    def feed_lines(self, lines: Iterable[str]) -> None:
        """JSON Lines; a line that is not a valid event becomes a dead letter, as live."""
        with fewer_collections():
            self._feed_lines(lines)

    def _feed_lines(self, lines: Iterable[str]) -> None:
        topic = self.settings.topic_court_events
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            raw: Any = None
            try:
                raw = json.loads(line)
                event = ANY_EVENT_ADAPTER.validate_python(raw)
            except json.JSONDecodeError as exc:
                self.dead_letter(f"line {number}: not JSON: {exc.msg}", topic, -1, number, None)
                continue
            except ValidationError as exc:
                reason = describe_validation_error(exc, raw)
                event_id = raw.get("event_id") if isinstance(raw, dict) else None
                self.dead_letter(reason, topic, -1, number, event_id)
                continue
            self.event(event)

    def views(self, now: datetime | None = None) -> dict[str, Any]:
        with fewer_collections():
            return dumps.all_views(
                self.entries, self.subjects, self.sanctions, self.dead_letters, now or self.latest
            )


@contextmanager
def fewer_collections() -> Iterator[None]:
    """No cyclic garbage collection while replaying: a replay builds millions of small objects
    that live to its end (models, rows), and the collector would walk them all again and again
    (most of the time of the views, and a good part of the feed). They hold no reference cycles,
    so reference counting frees what is dropped; whatever cycles there are wait until after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
