"""Topic administration: make sure the public topics exist with the configured partitions."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shixin.runtime.logging import get_logger
from shixin.runtime.security import client_options
from shixin.runtime.settings import Settings
from shixin.streams.topics import public_topics

log = get_logger(__name__)

FOREVER = "-1"
YEAR_MS = str(365 * 24 * 3600 * 1000)


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """Topic name -> its configs, for every public topic (the settings' `topic_*`).

    court.events is the truth (DESIGN §1.2); feedback, confirmations (a person's act, which a
    rebuilt department needs again), deadlines and the access log are the audit trail: all kept
    forever. subject.status carries the whole truth about a subject in every record, so the
    latest per subject is enough: compacted. Dead letters keep their original bytes for a year
    (the originals stay on their own topics anyway)."""
    configs: dict[str, dict[str, str]] = {}
    for name in Settings.model_fields:
        if name.startswith("topic_"):
            configs[getattr(settings, name)] = {"cleanup.policy": "delete", "retention.ms": FOREVER}
    configs[settings.topic_subject_status] = {"cleanup.policy": "compact"}
    configs[settings.topic_dead_letters] = {"cleanup.policy": "delete", "retention.ms": YEAR_MS}
    if settings.replication_factor >= 3:
        for config in configs.values():
            config["min.insync.replicas"] = "2"
    return configs


async def ensure_topics(bootstrap: str, settings: Settings, names: list[str] | None = None) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [n for n in (names or public_topics(settings)) if n not in existing]
        if wanted:
            configs = topic_configs(settings)
            response = await admin.create_topics(
                [
                    NewTopic(
                        n,
                        settings.partitions,
                        settings.replication_factor,
                        topic_configs=configs.get(n, {}),
                    )
                    for n in wanted
                ]
            )
            # with ACLs a role sees (and may create) only its own topics; the others are made by
            # the deployment (deploy/), so a refusal here is expected, not an error
            failed = {t[0]: t[1] for t in response.topic_errors if t[1] not in (0, 36)}
            created = [n for n in wanted if n not in failed]
            if created:
                log.info("topics.created", topics=created, partitions=settings.partitions)
            if failed:
                log.info("topics.not_created", topics=sorted(failed), error_codes=failed)
    finally:
        await admin.close()
