"""Pydantic models on the wire: each model class is bound to one Avro record name.

Two different failures, kept apart on purpose:

- `DecodeError`: the bytes are not a readable message (see `shixin.schemas.codec.decode`), or
  they hold a record that is not what the caller asked for.
- ``pydantic.ValidationError``: the message decoded fine, but its content breaks the model's
  rules (a bad resident ID, an unknown ground, ...). It propagates from `decode_event` and
  `decode_model` unchanged; the caller turns it into a dead letter with the validation message.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel

from shixin.domain.events import (
    ANY_EVENT_ADAPTER,
    COURT_EVENT_TYPES,
    SANCTION_EVENT_TYPES,
    AnyEvent,
)
from shixin.schemas.codec import decode, encode
from shixin.schemas.dead_letter import DEAD_LETTER_RECORD, DeadLetter
from shixin.schemas.errors import DecodeError, EncodeError
from shixin.schemas.registry import SchemaRegistry

COURT_NAMESPACE = "cn.shixin.court.v1"
SANCTION_NAMESPACE = "cn.shixin.sanction.v1"

M = TypeVar("M", bound=BaseModel)

_record_of_model: dict[type[BaseModel], str] = {}
_model_of_record: dict[str, type[BaseModel]] = {}
# record name -> the `type` value its events carry (court and sanction events only)
_event_type_of_record: dict[str, str] = {}


def register_model(model_type: type[BaseModel], record_name: str) -> None:
    """Bind a model class to the full name of the Avro record that carries it.

    The record's schema must be in the registry (a ``.avsc`` file in the schema directory, or
    `shixin.schemas.registry.register_schema`) by the time a model is encoded. Field names and
    order of the model and the record should agree; timestamps, dates and UUIDs travel as
    strings (the model's JSON form), ``bytes`` fields as Avro bytes.
    """
    previous = _record_of_model.get(model_type)
    if previous is not None and previous != record_name:
        raise ValueError(f"{model_type.__name__} is already bound to {previous}")
    _record_of_model[model_type] = record_name
    _model_of_record[record_name] = model_type


def record_name_of(model_type: type[BaseModel]) -> str:
    """The full Avro record name bound to a model class."""
    try:
        return _record_of_model[model_type]
    except KeyError:
        raise EncodeError(
            f"no Avro record bound to {model_type.__name__}; call register_model first"
        ) from None


def model_of_record(record_name: str) -> type[BaseModel] | None:
    """The model class bound to a record name, if any."""
    return _model_of_record.get(record_name)


def to_record(model: BaseModel) -> dict[str, Any]:
    """The Avro record of a model: its JSON form (``model_dump(mode="json")``: timestamps keep
    their offset), except that ``bytes`` fields stay bytes."""
    raw = _bytes_fields(type(model))
    if not raw:
        return model.model_dump(mode="json")
    record = model.model_dump(mode="json", exclude=set(raw))
    for name in raw:
        record[name] = getattr(model, name)
    return record


def encode_model(model: BaseModel, *, registry: SchemaRegistry | None = None) -> bytes:
    """One single-object message holding ``model``, written with the newest schema of the record
    bound to its class (court events: ``cn.shixin.court.v1.<type>``, department feedback:
    ``cn.shixin.sanction.v1.<type>``, `DeadLetter`: ``cn.shixin.deadletter.v1.DeadLetter``)."""
    return encode(record_name_of(type(model)), to_record(model), registry=registry)


def decode_event(data: bytes, *, registry: SchemaRegistry | None = None) -> AnyEvent:
    """Decode a court or sanction event and validate it as its model.

    Raises `DecodeError` when the bytes cannot be read (`shixin.schemas.codec.decode`), when
    they hold a record that is not a court or sanction event, or when the record's ``type``
    field disagrees with its record name. Raises ``pydantic.ValidationError`` when the event
    decodes but breaks the model's rules.
    """
    name, record = decode(data, registry=registry)
    expected = _event_type_of_record.get(name)
    if expected is None:
        raise DecodeError(f"{name} is not a court or sanction event", record_name=name)
    if record.get("type") != expected:
        raise DecodeError(f"a {name} record carries type {record.get('type')!r}", record_name=name)
    return ANY_EVENT_ADAPTER.validate_python(record)


def decode_model(data: bytes, model_type: type[M], *, registry: SchemaRegistry | None = None) -> M:
    """Decode a message that must hold the record bound to ``model_type``, and validate it.

    `DecodeError` for unreadable bytes or another record; ``pydantic.ValidationError`` when the
    record breaks the model's rules.
    """
    expected = record_name_of(model_type)
    name, record = decode(data, registry=registry)
    if name != expected:
        raise DecodeError(f"expected a {expected} record, got {name}", record_name=name)
    return model_type.model_validate(record)


def decode_dead_letter(data: bytes, *, registry: SchemaRegistry | None = None) -> DeadLetter:
    """Decode a message of ``shixin.dead-letters``; see `decode_model`."""
    return decode_model(data, DeadLetter, registry=registry)


@cache
def _bytes_fields(model_type: type[BaseModel]) -> tuple[str, ...]:
    return tuple(
        name
        for name, info in model_type.model_fields.items()
        if info.annotation in (bytes, bytes | None)
    )


def _register_builtin() -> None:
    for namespace, types in (
        (COURT_NAMESPACE, COURT_EVENT_TYPES),
        (SANCTION_NAMESPACE, SANCTION_EVENT_TYPES),
    ):
        for model_type in types:
            event_type = str(model_type.model_fields["type"].default)
            record_name = f"{namespace}.{event_type}"
            register_model(model_type, record_name)
            _event_type_of_record[record_name] = event_type
    register_model(DeadLetter, DEAD_LETTER_RECORD)


_register_builtin()
