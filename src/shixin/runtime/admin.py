"""Topic administration: make sure the public topics exist with the configured partitions."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shixin.runtime.logging import get_logger
from shixin.runtime.settings import Settings
from shixin.streams.topics import public_topics

log = get_logger(__name__)


async def ensure_topics(bootstrap: str, settings: Settings, names: list[str] | None = None) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [n for n in (names or public_topics(settings)) if n not in existing]
        if wanted:
            await admin.create_topics(
                [NewTopic(n, settings.partitions, settings.replication_factor) for n in wanted]
            )
            log.info("topics.created", topics=wanted, partitions=settings.partitions)
    finally:
        await admin.close()
