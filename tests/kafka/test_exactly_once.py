"""exactly_once on Apache Kafka: the court and a department process a listing inside
transactions, and a committed-only reader sees its feedback once, also after a restart."""

from __future__ import annotations

import asyncio

from shixin.domain.catalog import Catalog
from shixin.domain.events import ANY_EVENT_ADAPTER
from shixin.streams.pipeline import hosted
from shixin.streams.publish import publish_events
from tests.builders import listed, person_id
from tests.conftest import isolated_settings
from tests.kafka.containers import ApacheKafka
from tests.kafka.helpers import committed_events, committed_records, wait_for


def _applied(subject: str):  # type: ignore[no-untyped-def]
    return lambda e: (
        e.type == "SanctionsApplied" and e.department == "aviation" and e.subject_id == subject
    )


async def test_feedback_is_committed_once_under_exactly_once(
    kafka: ApacheKafka, catalog: Catalog
) -> None:
    settings = isolated_settings(processing_guarantee="exactly_once", partitions=2)
    subject = person_id(901)
    role = "court,department:aviation"
    async with hosted(role, settings, kafka.bootstrap, catalog) as roles:
        assert all(str(a.conf.processing_guarantee.value) == "exactly_once" for a in roles.apps)
        event = ANY_EVENT_ADAPTER.validate_python(listed("eos-1", subject))
        await publish_events(kafka.bootstrap, settings, [event])
        found = await wait_for(
            kafka.bootstrap, settings, settings.topic_sanction_events, _applied(subject)
        )
        assert len(found) == 1
    # a restart re-reads from the committed offsets: nothing is processed (or reported) twice
    async with hosted(role, settings, kafka.bootstrap, catalog):
        await asyncio.sleep(10)
    events = await committed_events(kafka.bootstrap, settings, settings.topic_sanction_events)
    assert len([e for e in events if _applied(subject)(e)]) == 1
    status = await committed_records(kafka.bootstrap, settings, settings.topic_subject_status)
    assert status, "the court's snapshot is committed too"
