"""SASL/SCRAM and the per-organisation ACLs of shixin.runtime.security.principals, applied to
Apache Kafka: each user can do what its role does and nothing of the others'."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from shixin.domain.catalog import Catalog
from shixin.domain.events import ANY_EVENT_ADAPTER
from shixin.runtime.admin import topic_configs
from shixin.runtime.security import Principal, client_options, principals
from shixin.runtime.settings import Settings
from shixin.streams.pipeline import hosted
from shixin.streams.publish import publish_events
from tests.builders import listed, person_id
from tests.conftest import isolated_settings
from tests.kafka.containers import ApacheKafka, sasl_settings_values
from tests.kafka.helpers import wait_for

BASE = isolated_settings(partitions=2)
USERS = {p.username: p for p in principals(BASE, ["aviation"])}
COURT_SYSTEM = USERS["court-system"]
COURT = USERS[f"{BASE.app_prefix}-court"]
AVIATION = USERS[f"{BASE.app_prefix}-department-aviation"]
AUDITOR = USERS[f"{BASE.app_prefix}-auditor"]


def as_user(user: Principal) -> Settings:
    return Settings(**(BASE.model_dump() | sasl_settings_values(user.username, password(user))))


def password(user: Principal) -> str:
    return f"pw-{user.username}"


@pytest.fixture(scope="module")
def cluster(secure_kafka: ApacheKafka) -> ApacheKafka:
    secure_kafka.create_topics(topic_configs(BASE), partitions=BASE.partitions)
    for user in (COURT_SYSTEM, COURT, AVIATION, AUDITOR):
        secure_kafka.add_user(user, password(user))
    return secure_kafka


async def _send(cluster: ApacheKafka, user: Principal, topic: str) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=cluster.bootstrap, **client_options(as_user(user))
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, key=b'"k"', value=b"v")
    finally:
        await producer.stop()


async def _read(cluster: ApacheKafka, user: Principal, topic: str) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=cluster.bootstrap, group_id=None, **client_options(as_user(user))
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.seek_to_beginning()
        await consumer.getmany(timeout_ms=2000)
        await consumer.getmany(timeout_ms=500)  # an authorization error surfaces on a fetch
    finally:
        await consumer.stop()


async def test_a_court_may_write_court_events_only(cluster: ApacheKafka) -> None:
    await _send(cluster, COURT_SYSTEM, BASE.topic_court_events)
    for topic in (BASE.topic_subject_status, BASE.topic_sanction_events, BASE.topic_sla_events):
        with pytest.raises(TopicAuthorizationFailedError):
            await _send(cluster, COURT_SYSTEM, topic)
    with pytest.raises(TopicAuthorizationFailedError):
        await _read(cluster, COURT_SYSTEM, BASE.topic_court_events)


async def test_a_department_reads_subject_status_and_writes_its_feedback(
    cluster: ApacheKafka,
) -> None:
    await _read(cluster, AVIATION, BASE.topic_subject_status)
    await _send(cluster, AVIATION, BASE.topic_sanction_events)
    with pytest.raises(TopicAuthorizationFailedError):
        await _read(cluster, AVIATION, BASE.topic_court_events)
    with pytest.raises(TopicAuthorizationFailedError):
        await _read(cluster, AVIATION, BASE.topic_sanction_events)  # the others' feedback
    for topic in (BASE.topic_court_events, BASE.topic_subject_status):
        with pytest.raises(TopicAuthorizationFailedError):
            await _send(cluster, AVIATION, topic)


async def test_the_court_role_cannot_write_feedback(cluster: ApacheKafka) -> None:
    await _send(cluster, COURT, BASE.topic_subject_status)
    with pytest.raises(TopicAuthorizationFailedError):
        await _send(cluster, COURT, BASE.topic_sanction_events)


async def test_a_wrong_password_is_refused(cluster: ApacheKafka) -> None:
    wrong = Settings(**(BASE.model_dump() | sasl_settings_values(COURT_SYSTEM.username, "no")))
    producer = AIOKafkaProducer(bootstrap_servers=cluster.bootstrap, **client_options(wrong))
    with pytest.raises((KafkaError, KafkaConnectionError)):
        await producer.start()
    await producer.stop()


async def test_a_secured_pipeline_runs_each_role_as_its_own_user(
    cluster: ApacheKafka, catalog: Catalog
) -> None:
    """The Faust apps and every plain client (topic check, publish, the end-offset correction)
    authenticate with SCRAM and live within their ACLs."""
    subject = person_id(902)
    async with (
        hosted("court", as_user(COURT), cluster.bootstrap, catalog),
        hosted("department:aviation", as_user(AVIATION), cluster.bootstrap, catalog),
    ):
        event = ANY_EVENT_ADAPTER.validate_python(listed("acl-1", subject))
        await publish_events(cluster.bootstrap, as_user(COURT_SYSTEM), [event])
        found = await wait_for(
            cluster.bootstrap,
            as_user(AUDITOR),
            BASE.topic_sanction_events,
            lambda e: e.type == "SanctionsApplied" and e.subject_id == subject,
        )
    assert [e.department for e in found] == ["aviation"]
