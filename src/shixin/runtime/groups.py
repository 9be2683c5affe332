"""Consumer groups' committed offsets, read and written from outside the group.

A consumer bound to a group but never joining it (no subscription) can fetch and commit the
group's offsets in one request each, without disturbing its members. The archive export and
import, the start of every role and the tests all use it.

Every group starts with a committed offset on every partition it reads: Faust drops the
messages it fetched before a rebalance and counts on seeking back to the committed offsets to
read them again (a batch taken before a rebalance must drop them too, or an entry would see its
events out of order: `streams/staged.py`). For a partition with no committed offset yet there is
nothing to seek back to: the fetch position stays after the dropped messages, and they are never
read again, nor committed (the crash test lost the first messages of a partition this way when
a worker was killed before the group's first commit). So before the apps start, each group gets
the partition's first offset committed wherever it has none: the same place
`auto_offset_reset=earliest` starts from.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from shixin.runtime.logging import get_logger
from shixin.runtime.security import client_options
from shixin.runtime.settings import Settings

log = get_logger(__name__)


@asynccontextmanager
async def group_member(
    bootstrap: str, settings: Settings, group: str
) -> AsyncIterator[AIOKafkaConsumer]:
    """A started consumer bound to `group` that never joins it."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        **client_options(settings),
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def fetch_committed(
    consumer: AIOKafkaConsumer, tps: Iterable[TopicPartition]
) -> dict[TopicPartition, int]:
    """The group's committed offsets, in one request (`committed()` asks one at a time);
    partitions with none are left out."""
    wanted = list(tps)
    if not wanted:
        return {}
    consumer.assign(wanted)
    found = await consumer._coordinator.fetch_committed_offsets(wanted)
    return {tp: meta.offset for tp, meta in found.items() if meta is not None and meta.offset >= 0}


async def committed_offsets(
    bootstrap: str, settings: Settings, group: str, tps: Iterable[TopicPartition]
) -> dict[TopicPartition, int]:
    async with group_member(bootstrap, settings, group) as consumer:
        return await fetch_committed(consumer, tps)


async def commit_offsets(
    bootstrap: str, settings: Settings, group: str, offsets: Mapping[TopicPartition, int]
) -> None:
    async with group_member(bootstrap, settings, group) as consumer:
        consumer.assign(list(offsets))
        await consumer.commit(dict(offsets))


async def commit_start_where_missing(
    bootstrap: str, settings: Settings, groups: dict[str, list[str]]
) -> None:
    """`groups`: consumer group -> the topics it reads."""
    await asyncio.gather(*(_start(bootstrap, settings, g, t) for g, t in groups.items()))


async def _start(bootstrap: str, settings: Settings, group: str, topics: list[str]) -> None:
    async with group_member(bootstrap, settings, group) as consumer:
        try:
            await consumer._client.force_metadata_update()
            tps = [
                TopicPartition(topic, p)
                for topic in topics
                for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            committed = await fetch_committed(consumer, tps)
            missing = [tp for tp in tps if tp not in committed]
            if not missing:
                return
            starts = await consumer.beginning_offsets(missing)
            await consumer.commit({tp: starts[tp] for tp in missing})
            log.info(
                "groups.start_committed",
                group=group,
                offsets={f"{tp.topic}/{tp.partition}": starts[tp] for tp in missing},
            )
        except KafkaError as exc:  # e.g. a group with live members refuses outsiders' commits
            log.info("groups.start_not_committed", group=group, error=repr(exc))
