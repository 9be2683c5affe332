"""Outputs before state, state before acknowledgement: how an agent keeps at-least-once
delivery whole across a crash.

A step changes a table and sends messages (facets, statuses, feedback, deadline events). Faust
writes the table's changelog and the messages through one producer, but a crash (SIGKILL) may
leave any subset of the buffered records unsent. If the changelog record survived and a message
did not, the redelivered input finds its change already made and sends nothing: the message is
lost for good (the crash test found lost deadline cancellations this way).

So an agent takes a batch of messages, runs the steps against a staged view of its table,
sends every output and waits until the broker has them all, and only then writes the table; it
acknowledges the batch once the broker also has the table's changelog records.
After a crash either the change was not written (the redelivered input recomputes the same
outputs; their consumers drop duplicates by id or version) or it was, and then its outputs were
already delivered. Waiting twice per batch, not per message, keeps it cheap.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

import faust
from faust.streams import _current_event
from faust.types import EventT, StreamT, TableT
from pydantic import BaseModel

from shixin.runtime.faust_consumer import mark_finished, superseded, trace
from shixin.runtime.settings import Settings
from shixin.streams.app import mark_processed
from shixin.streams.taking import take_batches
from shixin.streams.topics import key_bytes

_DELETED = object()


def batches(stream: StreamT[Any], settings: Settings) -> AsyncIterator[Sequence[EventT[Any]]]:
    """The stream's events, a batch at a time, not acknowledged: the agent acknowledges a batch
    (`acknowledge`) once its table is written. (`take_events` acknowledges a batch when the
    generator is closed, also when the agent was cancelled half way through it: those events
    would be committed unprocessed, and lost.) A batch is what came within `batch_within` of
    its first message (`streams/taking.py`: an idle stream costs nothing)."""
    return take_batches(stream, settings.batch_max, settings.batch_within)


async def acknowledge(stream: StreamT[Any], events: Sequence[EventT[Any]]) -> None:
    for event in events:
        await stream.ack(event)


@contextmanager
def acting_for(event: Any) -> Iterator[None]:
    """Faust writes a table key's changelog to the partition of the current event: make it the
    event that caused the write, not the last one of the batch."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


class StagedTable(MutableMapping[str, Any]):
    """A table's values as the batch so far has changed them; the table itself is untouched
    until `write()`."""

    def __init__(self, table: TableT[Any, Any]) -> None:
        self.table = table
        self.event: Any = None  # the event being processed: its partition gets the write
        self._writes: dict[str, tuple[Any, Any]] = {}
        # a value's changelog record made by the model that gave it (`put_model`), not by
        # Faust's JSON codec walking its JSON form again (about 10 µs per court event)
        self._records: dict[str, bytes] = {}
        self._json = table.changelog_topic.value_serializer == "json"  # type: ignore[attr-defined]

    def __getitem__(self, key: str) -> Any:
        if key in self._writes:
            value = self._writes[key][1]
            if value is _DELETED:
                raise KeyError(key)
            return value
        return self.table[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._writes[key] = (self.event, value)
        self._records.pop(key, None)

    def put_model(self, key: str, model: BaseModel) -> None:
        """`self[key] = model.model_dump(mode="json")`, with the changelog record made now by the
        model's own serializer (the same JSON, read back as the same value)."""
        self[key] = model.model_dump(mode="json")
        if self._json:
            self._records[key] = model.__pydantic_serializer__.to_json(model)

    def __delitem__(self, key: str) -> None:
        self[key]
        self._writes[key] = (self.event, _DELETED)
        self._records.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        keys = {k for k in self.table if k not in self._writes}
        keys |= {k for k, (_, v) in self._writes.items() if v is not _DELETED}
        return iter(keys)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def changes(self) -> dict[str, Any]:
        """key -> its value as staged (None: deleted)."""
        return {k: None if v is _DELETED else v for k, (_, v) in self._writes.items()}

    async def write(self, app: faust.App) -> list[Awaitable[Any]]:
        """Write the staged values; return the sends of their changelog records.

        Faust buffers a table's changelog records and its flush before a commit gives up after
        0.1 s without progress, so a commit can pass messages whose records are still buffered
        and die with the process: the hand-over crash test lost table state this way. The
        caller waits for these sends before it acknowledges the batch.

        At least once, the records go out as record batches (one per changelog partition) and
        the store is written directly, as Faust's own `table[key] = value` would after sending
        its record; once a batch is delivered the store learns its last offset, as Faust's
        changelog callback tells it (what a restart recovers from)."""
        table: Any = self.table  # (TableT declares neither serializer)
        if app.in_transaction or table.use_partitioner:  # (ours are partitioned by the input)
            return self._write_through_faust()
        topic = table.changelog_topic
        records: dict[int, list[tuple[bytes, bytes | None]]] = {}
        for key, (event, value) in self._writes.items():
            with acting_for(event):
                partition = event.message.partition
                if value is _DELETED:
                    table.data.pop(key, None)
                    payload = None
                else:
                    table.data[key] = value
                    payload = self._records.get(key)
                    if payload is None:
                        payload = topic.prepare_value(value, table.value_serializer)[0]
            record_key = topic.prepare_key(key, table.key_serializer)[0]
            records.setdefault(partition, []).append((record_key, payload))
        self._writes.clear()
        self._records.clear()
        producer = app.producer._ensure_producer()  # type: ignore[attr-defined]
        name = topic.get_topic_name()
        sent: list[Awaitable[Any]] = []
        for partition, items in records.items():
            for batch, count in await send_record_batches(producer, name, partition, items):
                sent.append(_persisted(table, batch, count))
        return sent

    def _write_through_faust(self) -> list[Awaitable[Any]]:
        """Each key through Faust's table (exactly once: its transactional producers)."""
        sent: list[Awaitable[Any]] = []
        send = self.table.send_changelog

        def recorded(*args: Any, **kwargs: Any) -> Any:
            future = send(*args, **kwargs)
            sent.append(future)
            return future

        self.table.send_changelog = recorded  # type: ignore[method-assign]
        try:
            for key, (event, value) in self._writes.items():
                with acting_for(event):
                    if value is _DELETED:
                        self.table.pop(key, None)
                    else:
                        self.table[key] = value
        finally:
            del self.table.send_changelog
        self._writes.clear()
        self._records.clear()
        return sent


async def _persisted(table: TableT[Any, Any], batch: Awaitable[Any], count: int) -> None:
    """Wait for a changelog record batch; then tell the store the offset of its last record."""
    metadata = await batch
    if metadata is not None:  # None: sent without acknowledgement (acks=0)
        table.data.set_persisted_offset(  # type: ignore[attr-defined]
            metadata.topic_partition, metadata.offset + count - 1
        )


class Outbox:
    """Messages sent during a batch; `delivered()` sends them and waits until the broker
    acknowledged all.

    At least once, they go out as one record batch per partition straight through the app's
    Kafka producer: Faust's send machinery (a pending message, a future and a callback per
    record) cost the court role more CPU than its steps. The partitioner is the producer's own,
    as for a single send. Exactly once, each record is sent through Faust, whose transactional
    producers must carry them."""

    def __init__(self, app: faust.App) -> None:
        self._app = app
        self._batched = not app.in_transaction
        self._records: dict[str, list[tuple[bytes, bytes | None]]] = {}
        self._pending: list[Awaitable[Any]] = []

    async def send(self, topic: faust.TopicT, key: str, value: bytes) -> None:
        if self._batched:
            self._records.setdefault(topic.get_topic_name(), []).append((key_bytes(key), value))
        else:
            self._pending.append(await topic.send(key=key, value=value))

    async def delivered(self) -> None:
        if self._records:
            records, self._records = self._records, {}
            producer = self._app.producer._ensure_producer()  # type: ignore[attr-defined]
            for topic, items in records.items():
                partitions = sorted(await producer.partitions_for(topic))
                by_partition: dict[int, list[tuple[bytes, bytes | None]]] = {}
                for key, value in items:
                    # the producer's own partitioner, as a single send would use it
                    partition = producer._partitioner(key, partitions, partitions)
                    by_partition.setdefault(partition, []).append((key, value))
                for partition, run in by_partition.items():
                    batches = await send_record_batches(producer, topic, partition, run)
                    self._pending += [batch for batch, _ in batches]
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)


async def send_record_batches(
    producer: Any, topic: str, partition: int, records: Sequence[tuple[bytes, bytes | None]]
) -> list[tuple[Awaitable[Any], int]]:
    """Send records to one partition, in order, in as few record batches as the producer's batch
    size allows; return each batch's delivery future and how many records it holds.

    Each batch is closed before it is handed over: complete as it is, it goes out at once
    instead of lingering (`producer_linger`) for records that will not come."""
    sent: list[tuple[Awaitable[Any], int]] = []
    batch, count = producer.create_batch(), 0
    for key, value in records:
        if batch.append(key=key, value=value, timestamp=None) is None:
            batch.close()
            sent.append((await producer.send_batch(batch, topic, partition=partition), count))
            batch, count = producer.create_batch(), 0
            batch.append(key=key, value=value, timestamp=None)  # a first record always fits
        count += 1
    if count:
        batch.close()
        sent.append((await producer.send_batch(batch, topic, partition=partition), count))
    return sent


Step = Callable[[Any, StagedTable, Outbox], Awaitable[None]]


async def process_batches(
    app: faust.App,
    stream: StreamT[Any],
    settings: Settings,
    table: TableT[Any, Any],
    step: Step,
    lock: asyncio.Lock | None = None,
    written: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """An agent's body: each batch through `step` (message, staged table, outbox), outputs
    delivered, then the table written and the batch acknowledged.

    A rebalance makes the consumer go back to the committed offsets, while a batch taken before
    it still holds later messages: applied now, an entry would see its events out of order.
    Faust skips such messages when it reads them; a batch must too, before the steps and again
    after the wait (a rebalance during it), and it drops a message handed over while a seek moved
    its partition (`superseded`). They come again: every rebalance ends with Faust
    seeking each partition to its committed offset (every partition has one:
    `runtime/groups.py`), and nothing after that offset was acknowledged. (The batch must not
    seek by itself: a seek while Faust's fetch loop is half way through a fetch drops the
    messages between the seek and the loop's read offset, or with a later seek forward, skips
    messages never processed.)

    `written`: told each batch's table changes (key -> value, None: deleted) once written."""
    tracing = trace.isEnabledFor(logging.DEBUG)
    async for events in batches(stream, settings):
        generation = app.consumer_generation_id
        fresh = [
            e for e in events if e.message.generation_id == generation and not superseded(e.message)
        ]
        async with lock or nullcontext():
            staged, out = StagedTable(table), Outbox(app)
            for event in fresh:
                staged.event = event
                await step(event.message, staged, out)
            await out.delivered()
            if app.consumer_generation_id != generation:
                if tracing:
                    trace.debug("batch.abandoned", **_spans(fresh))
                await acknowledge(stream, events)  # none finished: only forgotten
                continue
            changes = staged.changes() if written is not None else None
            await asyncio.gather(*await staged.write(app))
            if written is not None and changes:
                written(changes)
        if tracing:
            trace.debug("batch.done", stale=len(events) - len(fresh), **_spans(fresh))
        for event in fresh:
            mark_processed(app, event.message)
        mark_finished(e.message for e in fresh)
        # every event, the dropped ones too: an acknowledgement of a message not finished only
        # forgets it (runtime/faust_consumer.py, 2.), and one never acknowledged stays in the
        # consumer's unacknowledged set for as long as anything holds it, where the next
        # rebalance's wait for acknowledgements (Faust's `wait_empty`, no time limit) waits for
        # it: the member never rejoins and the group stays rebalancing (the hand-over crash test
        # once stalled so for minutes, on a message dropped as superseded)
        await acknowledge(stream, events)


def _spans(events: Sequence[EventT[Any]]) -> dict[str, Any]:
    """Per input partition: first and last offset, and how many (for the offsets trace)."""
    spans: dict[str, list[int]] = {}
    for event in events:
        message = event.message
        span = spans.setdefault(f"{message.topic}/{message.partition}", [message.offset, 0, 0])
        span[1] = message.offset
        span[2] += 1
    return {"spans": spans, "generation": events[0].message.generation_id if events else None}
