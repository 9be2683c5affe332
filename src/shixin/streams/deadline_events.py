"""sla.events on the wire: Avro single-object encoding of DeadlineEvent."""

from __future__ import annotations

from shixin.domain.obligations import DeadlineEvent
from shixin.schemas.codec import decode, encode
from shixin.schemas.errors import DecodeError

NAMESPACE = "cn.shixin.sla.v1"


def encode_deadline(event: DeadlineEvent) -> bytes:
    return encode(f"{NAMESPACE}.{event.type}", event.model_dump(mode="json"))


def decode_deadline(value: bytes) -> DeadlineEvent:
    name, record = decode(value)
    if not name.startswith(f"{NAMESPACE}."):
        raise DecodeError(f"{name} is not a deadline event", record_name=name)
    return DeadlineEvent.model_validate(record)
