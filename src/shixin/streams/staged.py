"""Outputs before state: how an agent keeps at-least-once delivery whole across a crash.

A step changes a table and sends messages (facets, statuses, feedback, deadline events). Faust
writes the table's changelog and the messages through one producer, but a crash (SIGKILL) may
leave any subset of the buffered records unsent. If the changelog record survived and a message
did not, the redelivered input finds its change already made and sends nothing: the message is
lost for good (the crash test found lost deadline cancellations this way).

So an agent takes a batch of messages, runs the steps against a staged view of its table,
sends every output and waits until the broker has them all, and only then writes the table.
After a crash either the change was not written (the redelivered input recomputes the same
outputs; their consumers drop duplicates by id or version) or it was, and then its outputs were
already delivered. Waiting once per batch, not per message, keeps it cheap.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any

import faust
from faust.streams import _current_event
from faust.types import EventT, StreamT, TableT

from shixin.runtime.settings import Settings

_DELETED = object()


def batches(stream: StreamT[Any], settings: Settings) -> AsyncIterator[Sequence[EventT[Any]]]:
    """The stream's events, a batch at a time; the batch is acknowledged when the next is taken."""
    taken: AsyncIterator[Sequence[EventT[Any]]] = stream.take_events(  # type: ignore[attr-defined]
        settings.batch_max, within=settings.batch_within
    )
    return taken


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

    def __getitem__(self, key: str) -> Any:
        if key in self._writes:
            value = self._writes[key][1]
            if value is _DELETED:
                raise KeyError(key)
            return value
        return self.table[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._writes[key] = (self.event, value)

    def __delitem__(self, key: str) -> None:
        self[key]
        self._writes[key] = (self.event, _DELETED)

    def __iter__(self) -> Iterator[str]:
        keys = {k for k in self.table if k not in self._writes}
        keys |= {k for k, (_, v) in self._writes.items() if v is not _DELETED}
        return iter(keys)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def write(self) -> None:
        for key, (event, value) in self._writes.items():
            with acting_for(event):
                if value is _DELETED:
                    self.table.pop(key, None)
                else:
                    self.table[key] = value
        self._writes.clear()


class Outbox:
    """Messages sent during a batch; `delivered()` waits until the broker acknowledged all."""

    def __init__(self) -> None:
        self._pending: list[Awaitable[Any]] = []

    async def send(self, topic: faust.TopicT, key: str, value: bytes) -> None:
        self._pending.append(await topic.send(key=key, value=value))

    async def delivered(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)
