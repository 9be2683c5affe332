"""What the integration tests do to a live pipeline: feed it, wait for it, look inside."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaProducer

from shixin.domain.events import ANY_EVENT_ADAPTER, SANCTION_EVENT_ADAPTER
from shixin.runtime.reader import read_topic
from shixin.runtime.settings import Settings
from shixin.schemas.model_codec import decode_event
from shixin.streams.idle import wait_idle
from shixin.streams.pipeline import read_dead_letters
from shixin.streams.publish import publish_events
from shixin.streams.roles import Roles


async def feed(
    bootstrap: str, settings: Settings, roles: Roles, events: list[dict[str, Any]]
) -> None:
    await publish_events(
        bootstrap, settings, [ANY_EVENT_ADAPTER.validate_python(e) for e in events]
    )
    await wait_idle(bootstrap, roles, settings, timeout=60)


async def feed_raw(
    bootstrap: str, settings: Settings, roles: Roles, values: list[bytes], key: bytes = b'"raw"'
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(settings.topic_court_events, key=key, value=value)
    finally:
        await producer.stop()
    await wait_idle(bootstrap, roles, settings, timeout=60)


def sanction(roles: Roles, department: str, subject_id: str) -> dict[str, Any] | None:
    return roles.departments[department].sanctions.get(subject_id)


def entry(roles: Roles, entry_id: str) -> dict[str, Any] | None:
    assert roles.court is not None
    return roles.court.entries.get(entry_id)


async def feedback(bootstrap: str, settings: Settings, subject_id: str) -> list[Any]:
    """Every department feedback event about one subject, in order."""
    out = []
    async for record in read_topic(bootstrap, settings.topic_sanction_events):
        event = decode_event(record.value)
        if getattr(event, "subject_id", None) == subject_id:
            out.append(SANCTION_EVENT_ADAPTER.validate_python(event.model_dump()))
    return out


async def dead_letters(bootstrap: str, settings: Settings) -> list[dict[str, Any]]:
    return await read_dead_letters(bootstrap, settings)


async def app_on_raw_topic(role: str, bootstrap: str) -> tuple[Any, Any, str]:
    """A bare app of the project's settings and a one-partition topic of raw bytes of its own:
    (app, topic, topic name), for agents a test writes itself."""
    from shixin.runtime.admin import ensure_topics
    from shixin.streams.app import make_app
    from tests.conftest import isolated_settings

    settings = isolated_settings(partitions=1)
    name = f"{settings.app_prefix}.{role}"
    await ensure_topics(bootstrap, settings, [name])
    app = make_app(role, settings, bootstrap)
    topic = app.topic(name, partitions=1, value_serializer="raw", key_serializer="raw")
    return app, topic, name


async def until(check: Callable[[], Awaitable[bool]], timeout: float, every: float = 0.1) -> None:
    """Wait until `check()` is true; TimeoutError after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("not reached in time")
        await asyncio.sleep(every)
