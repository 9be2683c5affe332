"""End offsets that are right on every broker.

The embedded broker answers ListOffsets(latest) with the base offset of the last batch + 1, not
the log end (BROKER-NOTES.md); Faust then ends table recovery early and silently loses the last
updates. The high-water mark inside a fetch response is right everywhere, so we read end offsets
from a fetch of the last batch. On Apache Kafka this gives the same answer at the cost of one
small fetch per partition, so the correction is always on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from shixin.runtime.logging import get_logger
from shixin.runtime.security import client_options, options_of

log = get_logger(__name__)


async def fetched_end_offsets(
    bootstrap: str | list[str],
    partitions: Iterable[Any],
    timeout: float = 10.0,
    security: Mapping[str, Any] | None = None,
) -> dict[TopicPartition, int]:
    """The log end offset of each partition, from fetch responses' high-water marks.

    `security`: the client security options (default: this process's settings)."""
    tps = [TopicPartition(tp.topic, tp.partition) for tp in partitions]
    if not tps:
        return {}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        fetch_max_wait_ms=10,
        max_partition_fetch_bytes=64 * 1024,
        **(client_options() if security is None else security),
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        hints = await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, max(0, hints[tp] - 1))
        result: dict[TopicPartition, int] = {}
        deadline = asyncio.get_running_loop().time() + timeout
        while len(result) < len(tps):
            await consumer.getmany(timeout_ms=100)
            for tp in tps:
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    result[tp] = max(highwater, hints[tp])
            if asyncio.get_running_loop().time() > deadline:
                missing = [tp for tp in tps if tp not in result]
                log.warning("offsets.highwater_unknown", partitions=str(missing))
                for tp in missing:
                    result[tp] = hints[tp]
                break
        return result
    finally:
        await consumer.stop()


def install_faust_end_offset_correction() -> None:
    """Make Faust's table recovery use fetched end offsets (idempotent)."""
    from faust.transport.drivers import aiokafka as faust_aiokafka

    thread_cls = faust_aiokafka.AIOKafkaConsumerThread
    if getattr(thread_cls, "_shixin_corrected", False):
        return

    async def _highwaters(self: Any, partitions: list[Any]) -> Mapping[Any, int]:
        consumer = self._ensure_consumer()
        if self.consumer.in_transaction:
            return {tp: consumer.last_stable_offset(tp) for tp in partitions}
        # the same brokers, reached the way the app reaches them (its credentials)
        fetched = await fetched_end_offsets(
            consumer._client._bootstrap_servers, partitions, security=options_of(consumer._client)
        )
        return {tp: fetched[TopicPartition(tp.topic, tp.partition)] for tp in partitions}

    thread_cls._highwaters = _highwaters  # type: ignore[method-assign]
    thread_cls._shixin_corrected = True  # type: ignore[attr-defined]
