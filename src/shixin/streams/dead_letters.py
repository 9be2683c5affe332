"""Dead letters: anything that fails to decode, validate or fit the lifecycle, with its reason.

The original bytes travel with the reason and the source position, so nothing is lost: an
operator can fix and re-publish it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import faust
from pydantic import ValidationError

from shixin.domain.reasons import describe_validation_error
from shixin.runtime.logging import get_logger
from shixin.runtime.settings import Settings
from shixin.schemas.dead_letter import DeadLetter
from shixin.schemas.errors import DecodeError
from shixin.schemas.model_codec import encode_model
from shixin.streams.counters import STATS
from shixin.streams.topics import raw_topic

log = get_logger(__name__)
MAX_ORIGINAL_BYTES = 512 * 1024
T = TypeVar("T")


class DeadLetterSink:
    def __init__(self, app: faust.App, settings: Settings) -> None:
        self.topic = raw_topic(app, settings.topic_dead_letters, settings, raw_keys=True)

    async def send(self, message: Any, reason: str, event_id: str | None = None) -> None:
        """Publish a dead letter. Never raises: a failure to record one is logged and counted,
        and the stream goes on (the original stays on its topic at its offset anyway)."""
        original = message.value if isinstance(message.value, bytes) else b""
        if len(original) > MAX_ORIGINAL_BYTES:
            # a dead letter must fit in one produce request; the whole message is still at
            # its source position, and the digest proves which one it was
            reason = (
                f"{reason} (original of {len(original)} bytes cut to {MAX_ORIGINAL_BYTES}; "
                f"sha256 {hashlib.sha256(original).hexdigest()})"
            )
            original = original[:MAX_ORIGINAL_BYTES]
        letter = DeadLetter(
            event_id=event_id,
            reason=reason,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            original=original,
            at=datetime.now(UTC).isoformat(),
        )
        STATS["dead_letters"] += 1
        log.warning(
            "dead_letter",
            reason=reason,
            event_id=event_id,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
        )
        try:
            # delivered before the step returns, so before its message can be acknowledged
            # (dead letters are rare: one wait each costs nothing worth batching)
            delivery = await self.topic.send(
                key=event_id.encode() if event_id else None, value=encode_model(letter)
            )
            await delivery
        except Exception as exc:
            STATS["dead_letters_unrecorded"] += 1
            log.error("dead_letter.unrecorded", error=repr(exc), offset=message.offset)

    async def decoded(self, message: Any, decode: Callable[[bytes], T]) -> T | None:
        """`decode(message.value)`, or None after dead-lettering what it could not read."""
        try:
            return decode(message.value)
        except DecodeError as exc:
            await self.send(message, exc.reason)
        except ValidationError as exc:
            await self.send(message, describe_validation_error(exc))
        return None
