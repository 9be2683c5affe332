"""Validate JSON Lines of court events (and department confirmations), then publish them.

All or nothing: any invalid line and nothing is published (DESIGN §7).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from shixin.domain.events import (
    ANY_EVENT_ADAPTER,
    COURT_EVENT_TYPES,
    AnyEvent,
)
from shixin.domain.reasons import describe_validation_error
from shixin.runtime.security import client_options
from shixin.runtime.settings import Settings
from shixin.schemas.model_codec import encode_model
from shixin.streams.topics import key_bytes


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def parse_lines(lines: Iterable[str | bytes]) -> tuple[list[AnyEvent], list[LineError]]:
    """Every valid event in order, and every error with its 1-based line number.

    Lines may be bytes (a file read as binary): a line that is not UTF-8 is an error of its own.
    """
    events: list[AnyEvent] = []
    errors: list[LineError] = []
    for number, given in enumerate(lines, start=1):
        if isinstance(given, bytes):
            try:
                line = given.decode("utf-8")
            except UnicodeDecodeError as exc:
                errors.append(
                    LineError(
                        number, f"not UTF-8 text: byte 0x{given[exc.start]:02X} at {exc.start}"
                    )
                )
                continue
        else:
            line = given
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(LineError(number, f"not JSON: {exc.msg} (column {exc.colno})"))
            continue
        if not isinstance(raw, dict):
            errors.append(LineError(number, "not a JSON object"))
            continue
        try:
            event = ANY_EVENT_ADAPTER.validate_python(raw)
        except ValidationError as exc:
            errors.append(LineError(number, describe_validation_error(exc, raw)))
            continue
        if str(raw.get("type", "")).startswith("Sanctions") and raw.get("origin") != "person":
            errors.append(
                LineError(number, 'department confirmations must have "origin": "person"')
            )
            continue
        events.append(event)
    return events, errors


def topic_and_key(event: AnyEvent, settings: Settings) -> tuple[str, bytes]:
    if isinstance(event, COURT_EVENT_TYPES):
        return settings.topic_court_events, key_bytes(event.entry_id)
    return settings.topic_confirmations, key_bytes(event.subject_id)  # type: ignore[union-attr]


async def publish_events(bootstrap: str, settings: Settings, events: Iterable[AnyEvent]) -> int:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        linger_ms=5,
        max_batch_size=64 * 1024,
        acks="all",
        **client_options(settings),
    )
    await producer.start()
    count = 0
    try:
        for event in events:
            topic, key = topic_and_key(event, settings)
            await producer.send(topic, key=key, value=encode_model(event))
            count += 1
        await producer.flush()
    finally:
        await producer.stop()
    return count
