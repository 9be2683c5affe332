"""Read replicas of the pipeline's tables for the `api` role.

The api owns no partition of any table. Each api worker tails the tables' changelog topics
itself, with no consumer group (like a Faust GlobalTable, it disturbs no one's assignment), and
keeps the latest value of every key in memory. So every worker answers every key locally, with
no broker round trip per request (DESIGN's check target: p99 under 5 ms).

Tables replicated from their first record: the court's `entries` and `subjects`, every
department's `sanctions-<id>`, the sla role's `obligations`, and the access log. Of the event
topics (court events, feedback, dead letters) only the last records are kept, for the dashboard;
their counts come from offsets (`shixin.web.metrics`).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic_core import from_json

from shixin.consumers.department import table_name
from shixin.domain.catalog import Catalog
from shixin.domain.obligations import Obligation
from shixin.projections.queries import changelog_topic
from shixin.projections.rows import Rows
from shixin.runtime.logging import get_logger
from shixin.runtime.offsets import fetched_end_offsets
from shixin.runtime.security import client_options
from shixin.runtime.settings import Settings
from shixin.web.access_index import AccessIndex
from shixin.web.obligation_index import ObligationIndex
from shixin.web.public import PublicList

log = get_logger(__name__)

RECENT = 50  # records kept of each event topic, for the dashboard
# records taken in between two turns of the event loop: about 13 µs each (parsed, packed,
# labelled), so a check waits at most about 15 ms behind a catch-up
BATCH_RECORDS = 1000
Record: TypeAlias = ConsumerRecord  # [bytes, bytes]


@dataclass(frozen=True)
class Recent:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    value: bytes | None


ENFORCED_STATES = ("applied", "retained", "pending_lift")


def _state_label(row: Any) -> str | None:
    """An entry's or a department row's state."""
    return row.get("state") if isinstance(row, dict) else None


def _subject_label(row: Any) -> str | None:
    """Whether a listed entry names the subject ("sanctionable") or not."""
    entries = row.get("entries") if isinstance(row, dict) else None
    if not isinstance(entries, dict):
        return None
    listed = any(e.get("listed") and e.get("named", True) for e in entries.values())
    return "sanctionable" if listed else "not_sanctionable"


class ReplicaState:
    """The latest value of every key of the replicated tables (their JSON, as Faust writes it:
    `projections/rows.py`), and the last records of the event topics."""

    def __init__(self, catalog: Catalog, access_log_memory: int = 100_000) -> None:
        self.entries = Rows(_state_label)
        self.subjects = Rows(_subject_label)
        # subject id -> departments whose row on it is in an enforced state
        self._enforcing: dict[str, int] = {}
        self.sanctions: dict[str, Rows] = {
            d.id: Rows(_state_label, self._sanction_state_changed, ordered=True)
            for d in catalog.departments
        }
        self.deadlines = ObligationIndex()
        self.obligations = Rows(on_put=self._obligation_put)
        self.public = PublicList(self.entries.get)
        self.recent_events: deque[Recent] = deque(maxlen=RECENT)
        self.recent_dead_letters: deque[Recent] = deque(maxlen=RECENT)
        self.access_log = AccessIndex(access_log_memory)

    def put_entry(self, entry_id: str, value: Any | None) -> None:
        """An entry's row as parsed JSON (None: deleted)."""
        raw = None if value is None else json.dumps(value, ensure_ascii=False).encode("utf-8")
        self.entries.put_raw(entry_id, raw, value)
        self.public.update(entry_id, value)

    def put_entry_record(self, entry_id: str, raw: bytes | None) -> None:
        """An entry's changelog record value (None: a tombstone)."""
        value = from_json(raw) if raw is not None else None
        self.entries.put_raw(entry_id, raw, value)
        self.public.update(entry_id, value)

    def _sanction_state_changed(self, subject_id: str, before: str | None, now: str | None) -> None:
        was, is_ = before in ENFORCED_STATES, now in ENFORCED_STATES
        if was == is_:
            return
        count = self._enforcing.get(subject_id, 0) + (1 if is_ else -1)
        if count > 0:
            self._enforcing[subject_id] = count
        else:
            self._enforcing.pop(subject_id, None)

    def _obligation_put(self, key: str, record: Any | None) -> None:
        obligation = None if record is None else Obligation.model_validate(record["obligation"])
        self.deadlines.put(key, obligation)

    def sanctioned_subjects(self) -> int:
        """Subjects at least one department enforces a measure against now."""
        return len(self._enforcing)


def _key(record: Record) -> str:
    return str(from_json(record.key)) if record.key is not None else ""


def _value(record: Record) -> Any | None:
    return from_json(record.value) if record.value is not None else None


def _raw(record: Record) -> bytes | None:
    value: bytes | None = record.value
    return value


def _recent(record: Record) -> Recent:
    return Recent(record.topic, record.partition, record.offset, record.timestamp, record.value)


@dataclass
class Source:
    topic: str
    apply: Callable[[Record], None]
    from_start: bool = True  # False: only the last RECENT records of each partition


def sources(settings: Settings, catalog: Catalog, state: ReplicaState) -> list[Source]:
    def table(rows: Rows) -> Callable[[Record], None]:
        return lambda r: rows.put_raw(_key(r), _raw(r))

    out = [
        Source(
            changelog_topic(settings, "court", "entries"),
            lambda r: state.put_entry_record(_key(r), _raw(r)),
        ),
        Source(changelog_topic(settings, "court", "subjects"), table(state.subjects)),
        Source(changelog_topic(settings, "sla", "obligations"), table(state.obligations)),
        Source(settings.topic_access_log, lambda r: state.access_log.extend(_value(r) or ())),
        Source(
            settings.topic_court_events,
            lambda r: state.recent_events.append(_recent(r)),
            from_start=False,
        ),
        Source(
            settings.topic_sanction_events,
            lambda r: state.recent_events.append(_recent(r)),
            from_start=False,
        ),
        Source(
            settings.topic_dead_letters,
            lambda r: state.recent_dead_letters.append(_recent(r)),
            from_start=False,
        ),
    ]
    for department in catalog.departments:
        out.append(
            Source(
                changelog_topic(settings, f"department-{department.id}", table_name(department.id)),
                table(state.sanctions[department.id]),
            )
        )
    return out


@dataclass
class Tailer:
    """Follows every source topic with one group-less consumer; picks up topics that appear
    later (a role started after the api). Ready once it has read up to the end offsets that
    were there when it started."""

    bootstrap: str
    sources: list[Source]
    scan_interval: float = 2.0
    # called once caught up, before `ready` is set (the api freezes its heap: web/role.py)
    on_caught_up: Callable[[], None] | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    positions: dict[TopicPartition, int] = field(default_factory=dict)
    _targets: dict[TopicPartition, int] | None = None
    _by_topic: dict[str, Source] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_topic = {s.topic: s for s in self.sources}

    @property
    def assigned(self) -> set[TopicPartition]:
        return set(self.positions)

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **client_options(),
        )
        await consumer.start()
        loop = asyncio.get_running_loop()
        try:
            next_scan = 0.0
            while True:
                if loop.time() >= next_scan and len(self._topics_seen()) < len(self._by_topic):
                    await self._scan(consumer)
                    next_scan = loop.time() + self.scan_interval
                if not self.positions:
                    self._check_ready()
                    await asyncio.sleep(0.2)
                    continue
                batch = await consumer.getmany(timeout_ms=200, max_records=BATCH_RECORDS)
                for tp, records in batch.items():
                    apply = self._by_topic[tp.topic].apply
                    for record in records:
                        try:
                            apply(record)
                        except Exception as exc:  # one unreadable record must not stop replicas
                            log.warning(
                                "replica.bad_record",
                                topic=tp.topic,
                                partition=tp.partition,
                                offset=record.offset,
                                error=repr(exc),
                            )
                    if records:
                        self.positions[tp] = records[-1].offset + 1
                if not self.ready.is_set():
                    for tp in self.positions:
                        self.positions[tp] = max(self.positions[tp], await consumer.position(tp))
                    self._check_ready()
                await asyncio.sleep(0)  # let requests in between batches of a long catch-up
        finally:
            await consumer.stop()

    def _topics_seen(self) -> set[str]:
        return {tp.topic for tp in self.positions}

    async def _scan(self, consumer: AIOKafkaConsumer) -> None:
        cluster = await consumer._client.fetch_all_metadata()
        new = [
            TopicPartition(topic, p)
            for topic in self._by_topic
            if topic not in self._topics_seen()
            for p in sorted(cluster.partitions_for_topic(topic) or ())
        ]
        if self._targets is None:
            self._targets = await fetched_end_offsets(self.bootstrap, new) if new else {}
            log.info("replica.start", topics=len({tp.topic for tp in new}))
        if not new:
            return
        ends = await fetched_end_offsets(self.bootstrap, new)
        starts = {
            tp: 0 if self._by_topic[tp.topic].from_start else max(0, ends[tp] - RECENT)
            for tp in new
        }
        consumer.assign([*self.positions, *new])
        for tp, position in [*self.positions.items(), *starts.items()]:
            consumer.seek(tp, position)
        self.positions.update(starts)

    def _check_ready(self) -> None:
        if self._targets is None or self.ready.is_set():
            return
        if all(self.positions.get(tp, 0) >= end for tp, end in self._targets.items()):
            if self.on_caught_up is not None:
                self.on_caught_up()
            self.ready.set()
            log.info("replica.ready", partitions=len(self._targets))

    def lag(self) -> dict[str, int]:
        """Records not yet read of the targets seen at start, per topic (0 once ready)."""
        out: dict[str, int] = {}
        for tp, end in (self._targets or {}).items():
            out[tp.topic] = out.get(tp.topic, 0) + max(0, end - self.positions.get(tp, 0))
        return out
