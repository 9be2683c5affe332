"""Read a topic from its beginning to its end with no consumer group: disturbs nothing live."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shixin.runtime.offsets import fetched_end_offsets
from shixin.runtime.security import client_options


async def read_topic(
    bootstrap: str, topic: str, partitions: list[int] | None = None
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every record now in `topic` (or in the given partitions), partition by partition order."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, **client_options()
    )
    await consumer.start()
    try:
        known = consumer.partitions_for_topic(topic)
        if known is None:
            await consumer._client.force_metadata_update()
            known = consumer.partitions_for_topic(topic) or set()
        tps = [
            TopicPartition(topic, p) for p in sorted(known) if partitions is None or p in partitions
        ]
        if not tps:
            return
        ends = await fetched_end_offsets(bootstrap, tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    if record.offset < ends[tp]:
                        yield record
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
