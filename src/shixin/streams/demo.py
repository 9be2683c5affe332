"""`shixin demo`: every role in one process, fed by a synthetic court at a steady pace, with a
live summary of what the pipeline holds. A few undecodable messages are mixed in, to show that
bad input lands in the dead letters and stops nothing."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaProducer

from shixin.domain.events import COURT_EVENT_ADAPTER
from shixin.runtime.security import client_options
from shixin.runtime.settings import Settings
from shixin.schemas.model_codec import encode_model
from shixin.streams.counters import STATS
from shixin.streams.roles import Roles
from shixin.streams.topics import key_bytes
from shixin.synthetic import generate_history

BAD_EVERY = 250  # one undecodable message per this many court events


async def feed_court(
    bootstrap: str, settings: Settings, debtors: int, seed: int, rate: float
) -> None:
    """Publish the synthetic history at `rate` events per second, until cancelled or done."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, **client_options(settings)
    )
    await producer.start()
    try:
        started = time.monotonic()
        for n, raw in enumerate(generate_history(debtors, seed), start=1):
            event = COURT_EVENT_ADAPTER.validate_python(raw)
            await producer.send(
                settings.topic_court_events,
                key=key_bytes(event.entry_id),
                value=encode_model(event),
            )
            STATS["published"] += 1
            if n % BAD_EVERY == 0:
                await producer.send(
                    settings.topic_court_events, key=b'"demo-bad"', value=b"\x00 not avro"
                )
                STATS["published_bad"] += 1
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
    finally:
        await producer.stop()


def summary(roles: Roles, started: float) -> dict[str, Any]:
    """What the demo shows: counts over the live tables and the agents' counters."""
    assert roles.court is not None
    states = Counter(row["state"] for row in roles.court.entries.values())
    sanctionable = sum(
        1
        for row in roles.court.subjects.values()
        if any(e["listed"] and e.get("named", True) for e in row["entries"].values())
    )
    by_state: Counter[str] = Counter()
    for role in roles.departments.values():
        by_state.update(row["state"] for row in role.sanctions.values())
    first = STATS.get("first_applied_at")
    return {
        "uptime_s": round(time.monotonic() - started, 1),
        "published": STATS["published"],
        "published_bad": STATS["published_bad"],
        "entries": dict(states),
        "sanctionable_subjects": sanctionable,
        "department_sanctions": dict(by_state),
        "feedback_applied": STATS["feedback.SanctionsApplied"],
        "feedback_lifted": STATS["feedback.SanctionsLifted"],
        "dead_letters": STATS["dead_letters"],
        "first_sanction_after_s": None if first is None else round(first - started, 2),
    }


async def report_loop(
    roles: Roles, started: float, show: Callable[[dict[str, Any]], None], every: float = 1.0
) -> None:
    while True:
        show(summary(roles, started))
        await asyncio.sleep(every)
