"""A stalled input partition (streams/stalls.py), on a real app and broker: its commits stop
while messages wait (here made to happen the two ways the consumer can lose messages: read past
them, or fetched while the partition was paused); the app logs it, reads the partition again
from its last commit, and every message is processed and committed. Once, not again and again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from faust.types import TP

from shixin.runtime.admin import ensure_topics
from shixin.runtime.faust_threads import stop_app
from shixin.runtime.groups import commit_offsets, committed_offsets
from shixin.streams.app import make_app
from shixin.streams.counters import STATS
from shixin.streams.staged import process_batches
from tests.conftest import isolated_settings
from tests.integration.helpers import until

# above Faust's commit interval (2.8 s): a partition in flow moves its base at every commit
STALL_AFTER = 4.0


async def _produce(bootstrap: str, name: str, offsets: range) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for n in offsets:
            await producer.send_and_wait(name, str(n).encode(), partition=0)
    finally:
        await producer.stop()


async def _stall_and_recover(bootstrap: str, role: str, lose: Callable[[Any, TP], None]) -> None:
    """20 messages processed and committed; then `lose(app, tp)`, 20 more messages: each is
    processed, all 40 are committed, the stall is counted, and once repaired it stays so."""
    settings = isolated_settings(partitions=1, stall_after=STALL_AFTER)
    name = f"{settings.app_prefix}.stalls"
    await ensure_topics(bootstrap, settings, [name])
    tp = TopicPartition(name, 0)
    app = make_app(role, settings, bootstrap)
    await commit_offsets(bootstrap, settings, app.conf.id, {tp: 0})  # as every role starts
    topic = app.topic(name, partitions=1, value_serializer="raw", key_serializer="raw")
    table = app.Table("t", partitions=1)
    seen: list[int] = []

    async def step(message: Any, staged: Any, out: Any) -> None:
        seen.append(message.offset)
        staged[str(message.offset)] = 1

    @app.agent(topic)
    async def reader(stream):  # type: ignore[no-untyped-def]
        await process_batches(app, stream, settings, table, step)

    async def committed() -> int:
        return (await committed_offsets(bootstrap, settings, app.conf.id, [tp]))[tp]

    async def committed_all() -> bool:
        return await committed() == 40

    async def committed_first() -> bool:
        return await committed() == 20

    stalls = STATS["partition_stalls"]
    await _produce(bootstrap, name, range(20))
    await app.start()
    try:
        await until(committed_first, 60)
        lose(app, TP(name, 0))
        await _produce(bootstrap, name, range(20, 40))
        await until(committed_all, 60)
        repaired = STATS["partition_stalls"]
        await asyncio.sleep(STALL_AFTER)  # and it stays repaired
    finally:
        assert await stop_app(app) == "stopped"
    assert sorted(set(seen)) == list(range(40)), seen
    assert repaired > stalls
    assert STATS["partition_stalls"] == repaired


async def test_a_partition_read_past_its_messages_is_read_again(bootstrap):
    """The consumer believes it already handed over what comes next (the fetch loop's read
    offset ahead of its messages): it drops them unseen, and the commits stop at the first."""

    def read_past(app: Any, tp: TP) -> None:
        app.consumer._read_offset[tp] = 1_000

    await _stall_and_recover(bootstrap, "stall-read-past", read_past)


async def test_a_partition_left_paused_is_resumed_and_read_again(bootstrap):
    """Faust drops what it fetches for a paused partition: left paused after the tables are
    recovered, the partition stops for good."""

    def pause(app: Any, tp: TP) -> None:
        app.consumer.pause_partitions({tp})

    await _stall_and_recover(bootstrap, "stall-paused", pause)
