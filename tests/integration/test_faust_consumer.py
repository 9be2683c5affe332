"""The corrections to Faust's consumer (runtime/faust_consumer.py), each on a real app and broker.

A seek made while Faust's fetch loop waits on a full stream buffer is honoured: the messages
from the new position come again. Uncorrected, the loop went on handing over the old fetch and
dropped every message of the new position below it: never processed, never acknowledged, the
group's commits stuck.

Only a message the batch processor finished, from the current generation, counts as processed
when acknowledged: streams also acknowledge the messages they skip (from before a rebalance, or
read while flow control is suspended), and uncorrected the next commit could pass over them.

A commit covers only a run of processed messages that starts where the consumer sought to or last
committed: Faust committed any first run of acknowledged offsets when it knew no committed offset
(at 0, or after a revocation), passing over messages never processed.

Resuming flow control leaves the messages already handed to an agent in its queue: Faust emptied
the queues, and a rebalance's end (seek, then resume) lost what was fetched in between.

A message whose hand-over overlapped a seek of its partition is dropped by the batch processor:
fetched before the seek, it comes again in its place.

A stop's wait for acknowledgements collects only the young generation each round: the full
collections of 45 apps stopping together took most of the demo's stop."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from faust.types import TP

from shixin.runtime.admin import ensure_topics
from shixin.runtime.faust_consumer import install_faust_consumer_corrections, mark_finished
from shixin.runtime.faust_threads import stop_app
from shixin.runtime.groups import commit_offsets, committed_offsets
from shixin.streams.app import make_app
from shixin.streams.staged import process_batches
from tests.conftest import isolated_settings


async def _topic_with(bootstrap: str, settings, count: int) -> str:  # type: ignore[no-untyped-def]
    name = f"{settings.app_prefix}.consumer"
    await ensure_topics(bootstrap, settings, [name])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for n in range(count):
            await producer.send_and_wait(name, str(n).encode(), partition=0)
    finally:
        await producer.stop()
    return name


class _Holder:
    """What an agent saw, offset by offset; it holds on at offset `at` until let go, so that its
    queue fills and the fetch loop waits with a message in hand."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.seen: list[int] = []
        self.holding = asyncio.Event()
        self.go_on = asyncio.Event()

    async def see(self, offset: int) -> None:
        self.seen.append(offset)
        if offset == self.at and not self.go_on.is_set():
            self.holding.set()
            await self.go_on.wait()

    async def run(
        self, app: Any, meanwhile: Callable[[], Awaitable[None]], done: Callable[[], bool]
    ) -> None:
        """Start `app`; once the agent holds on and the buffers filled, `meanwhile()`, let go,
        and wait until `done()`; stop."""
        await app.start()
        try:
            await asyncio.wait_for(self.holding.wait(), timeout=60)
            await asyncio.sleep(1.0)
            await meanwhile()
            self.go_on.set()
            for _ in range(200):
                if done():
                    break
                await asyncio.sleep(0.1)
        finally:
            assert await stop_app(app) == "stopped"


def _held_reader(
    role: str, settings: Any, bootstrap: str, name: str, buffer: int, at: int
) -> tuple[Any, _Holder]:
    """An app whose agent reads topic `name` with a stream buffer of `buffer` messages and holds
    on at offset `at`."""
    app = make_app(role, settings, bootstrap, stream_buffer_maxsize=buffer)
    topic = app.topic(name, partitions=1, value_serializer="raw", key_serializer="raw")
    holder = _Holder(at=at)

    @app.agent(topic)
    async def reader(stream):  # type: ignore[no-untyped-def]
        async for event in stream.events():
            await holder.see(event.message.offset)

    return app, holder


async def test_a_seek_while_the_fetch_loop_waits_reads_the_messages_again(bootstrap):
    settings = isolated_settings(partitions=1)
    name = await _topic_with(bootstrap, settings, 40)

    # a buffer of 4: while the agent holds on, the fetch loop waits with a message in hand
    app, holder = _held_reader("read-offset", settings, bootstrap, name, buffer=4, at=10)
    seen = holder.seen

    async def seek() -> None:
        await app.consumer.seek(TP(name, 0), 5)

    await holder.run(app, seek, lambda: seen.count(5) == 2 and seen[-1] == 39)

    after = seen[seen.index(10) + 1 :]
    # what was buffered before the seek, then everything again from offset 5, in order
    again = after[after.index(5) :]
    assert again == list(range(5, 40)), after


async def test_only_finished_messages_of_this_generation_count_as_processed(bootstrap):
    settings = isolated_settings(partitions=1)
    name = await _topic_with(bootstrap, settings, 4)
    app = make_app("stale-ack", settings, bootstrap)
    topic = app.topic(name, partitions=1, value_serializer="raw", key_serializer="raw")
    got: list[Any] = []

    @app.agent(topic)
    async def reader(stream):  # type: ignore[no-untyped-def]
        async for event in stream.noack().events():
            got.append(event)

    await app.start()
    try:
        for _ in range(300):
            if len(got) == 4:
                break
            await asyncio.sleep(0.1)
        mark_finished(event.message for event in got[:3])  # the fourth: skipped, not processed
        generation = app.consumer_generation_id
        app.consumer_generation_id = generation + 1  # a rebalance: got[1] is from before it
        try:
            got[1].ack()
        finally:
            app.consumer_generation_id = generation
        for event in (got[0], got[2], got[3]):
            event.ack()
        acked = sorted(app.consumer._acked[TP(name, 0)])
    finally:
        assert await stop_app(app) == "stopped"
    assert acked == [0, 2]


async def test_a_commit_starts_where_the_consumer_sought(bootstrap):
    settings = isolated_settings(partitions=1)
    name = await _topic_with(bootstrap, settings, 4)
    tp = TopicPartition(name, 0)
    app = make_app("commit-base", settings, bootstrap)
    group = app.conf.id
    await commit_offsets(bootstrap, settings, group, {tp: 0})  # as every role starts
    topic = app.topic(name, partitions=1, value_serializer="raw", key_serializer="raw")
    got: list[Any] = []

    @app.agent(topic)
    async def reader(stream):  # type: ignore[no-untyped-def]
        async for event in stream.noack().events():
            got.append(event)

    await app.start()
    try:
        for _ in range(300):
            if len(got) == 4:
                break
            await asyncio.sleep(0.1)
        # 2 and 3 processed, 0 and 1 not yet: nothing may be committed
        mark_finished(event.message for event in got[2:])
        for event in got[2:]:
            event.ack()
        await app.consumer.commit()
        early = await committed_offsets(bootstrap, settings, group, [tp])
        mark_finished(event.message for event in got[:2])
        for event in got[:2]:
            event.ack()
        await app.consumer.commit()
        late = await committed_offsets(bootstrap, settings, group, [tp])
    finally:
        assert await stop_app(app) == "stopped"
    assert (early[tp], late[tp]) == (0, 4)


async def test_resuming_flow_keeps_what_the_agents_were_handed(bootstrap):
    settings = isolated_settings(partitions=1)
    name = await _topic_with(bootstrap, settings, 40)
    app, holder = _held_reader("resume-keeps", settings, bootstrap, name, buffer=16, at=3)
    seen = holder.seen

    async def resume() -> None:
        app.flow_control.resume()  # as the end of every rebalance does

    await holder.run(app, resume, lambda: bool(seen) and seen[-1] == 39)
    assert seen == list(range(40))


async def test_a_message_handed_over_during_a_seek_waits_for_its_turn(bootstrap):
    """The message the fetch loop holds while a seek moves its partition was fetched before the
    seek: the batch processor drops it, and it comes again in its place."""
    settings = isolated_settings(partitions=1)
    name = await _topic_with(bootstrap, settings, 40)
    tp = TP(name, 0)
    app = make_app("superseded", settings, bootstrap, stream_buffer_maxsize=4)
    topic = app.topic(name, partitions=1, value_serializer="raw", key_serializer="raw")
    table = app.Table("t", partitions=1)
    holder = _Holder(at=10)
    seen = holder.seen
    handed: list[int] = []

    async def step(message: Any, staged: Any, out: Any) -> None:
        await holder.see(message.offset)

    @app.agent(topic)
    async def reader(stream):  # type: ignore[no-untyped-def]
        await process_batches(app, stream, settings, table, step)

    async def seek() -> None:
        handed.append(app.consumer._read_offset[tp])  # the last one handed; the next is in hand
        await app.consumer.seek(tp, 5)

    await holder.run(app, seek, lambda: seen.count(5) == 2 and seen[-1] == 39)
    back = seen.index(5, 6)
    assert (seen[:back], seen[back:]) == (list(range(handed[0] + 1)), list(range(5, 40))), seen


class _Forgotten:
    """Something in a reference cycle, as a cancelled task's frames hold a message."""

    def __init__(self) -> None:
        self.me = self


def test_the_stop_wait_collects_the_young_generation_only():
    install_faust_consumer_corrections()
    from faust.transport import consumer

    unacked: weakref.WeakSet[_Forgotten] = weakref.WeakSet()
    forgotten = _Forgotten()
    unacked.add(forgotten)
    del forgotten
    generations: list[int] = []

    def started(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(started)
    try:
        consumer.gc.collect()  # what Faust's wait_empty calls each round
    finally:
        gc.callbacks.remove(started)
    assert generations == [0]
    assert not unacked  # a cycle just made is still freed


async def test_a_dropped_message_is_forgotten_not_left_for_the_next_rebalance(
    bootstrap, monkeypatch
):
    """A message the batch processor drops (superseded, or of an earlier generation) is
    acknowledged, which only forgets it. Left unacknowledged, it stayed in the consumer's set of
    messages in flight for as long as anything held it, and the next rebalance's wait for
    acknowledgements (Faust's `wait_empty`, without a time limit) waited for it: the member never
    rejoined and the whole group stayed rebalancing (the hand-over crash test, minutes)."""
    from shixin.streams import staged

    settings = isolated_settings(partitions=1)
    name = await _topic_with(bootstrap, settings, 20)
    app = make_app("dropped", settings, bootstrap)
    topic = app.topic(name, partitions=1, value_serializer="raw", key_serializer="raw")
    table = app.Table("t", partitions=1)
    seen: list[int] = []
    dropped: list[Any] = []  # held, as anything else might hold it

    def superseded(message: Any) -> bool:
        if message.offset == 7 and not dropped:
            dropped.append(message)
            return True
        return False

    monkeypatch.setattr(staged, "superseded", superseded)

    async def step(message: Any, staged_table: Any, out: Any) -> None:
        seen.append(message.offset)

    @app.agent(topic)
    async def reader(stream):  # type: ignore[no-untyped-def]
        await process_batches(app, stream, settings, table, step)

    await app.start()
    try:
        for _ in range(300):
            if seen and seen[-1] == 19:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # the last batch acknowledged
        in_flight = [m.offset for m in app.consumer._unacked_messages if not m.acked]
    finally:
        assert await stop_app(app) == "stopped"
    assert seen == [n for n in range(20) if n != 7], seen
    assert [m.acked for m in dropped] == [True]
    assert in_flight == [], in_flight
