"""Avro single-object encoding of plain records (DESIGN §3).

A message is ``C3 01``, the 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema's
Parsing Canonical Form, then the Avro binary body. Any Avro implementation can read it without a
registry server. Decoding accepts every known version of a record (by its fingerprint) and
resolves it to the newest schema of that record.

`decode` raises `DecodeError` and nothing else, whatever the bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any

from fastavro.read import SchemaResolutionError, schemaless_reader
from fastavro.write import schemaless_writer

from shixin.schemas.errors import DecodeError, EncodeError
from shixin.schemas.registry import HEADER_SIZE, MAGIC, SchemaRegistry, default_registry

__all__ = ["HEADER_SIZE", "MAGIC", "decode", "encode"]


def encode(
    record_name: str, record: Mapping[str, Any], *, registry: SchemaRegistry | None = None
) -> bytes:
    """Encode ``record`` with the newest schema of ``record_name`` (full name, e.g.
    ``cn.shixin.court.v1.DebtorListed``) as one single-object message.

    The record holds Avro values: strings for timestamps, dates and UUIDs, lists for arrays,
    ``bytes`` for bytes. A field left out takes its schema default; a field the schema does not
    have, a missing field without default or a value of the wrong type is an `EncodeError`.
    """
    writer = (registry or default_registry()).writer(record_name)
    if writer is None:
        raise EncodeError(f"no Avro schema registered for record {record_name!r}")
    out = BytesIO()
    out.write(writer.header)
    try:
        schemaless_writer(out, writer.parsed, record, strict_allow_default=True)
    except Exception as exc:  # fastavro: TypeError, ValueError, KeyError, struct.error, ...
        raise EncodeError(f"cannot encode {record_name}: {_describe(exc)}") from exc
    return out.getvalue()


def decode(
    data: bytes | bytearray | memoryview, *, registry: SchemaRegistry | None = None
) -> tuple[str, dict[str, Any]]:
    """Decode one single-object message: (full record name, the record as a plain dict).

    The record is resolved to the newest schema of its record name, whichever known version
    wrote it: fields added since have their defaults. Raises `DecodeError` (and nothing else)
    when the bytes are not such a message: too short or no ``C3 01`` magic, an unknown writer
    fingerprint, a truncated or corrupt body, or bytes left over after the body.
    """
    if not isinstance(data, bytes):
        if not isinstance(data, bytearray | memoryview):  # a null Kafka value, say
            raise DecodeError(f"expected bytes, got {type(data).__name__}")
        data = bytes(data)
    size = len(data)
    if size < HEADER_SIZE:
        raise DecodeError(
            f"not Avro single-object encoding: expected C3 01, got {_preview(data)}"
            f" ({size} byte{'' if size == 1 else 's'}; the header alone is {HEADER_SIZE})"
        )
    if data[:2] != MAGIC:
        raise DecodeError(f"not Avro single-object encoding: expected C3 01, got {_preview(data)}")
    fingerprint = data[2:HEADER_SIZE]
    reader = (registry or default_registry()).reader(fingerprint)
    if reader is None:
        raise DecodeError(f"unknown writer schema fingerprint 0x{fingerprint.hex()}")
    name = reader.name
    body = BytesIO(data)
    body.seek(HEADER_SIZE)
    try:
        record = schemaless_reader(body, reader.writer, reader.reader)
    except SchemaResolutionError as exc:
        raise DecodeError(
            f"cannot resolve {name} version 0x{fingerprint.hex()} to the newest schema: {exc}",
            record_name=name,
        ) from exc
    except Exception as exc:  # EOFError, IndexError, UnicodeDecodeError, OverflowError, ...
        raise DecodeError(
            f"truncated or corrupt Avro body for {name}: {_describe(exc)}", record_name=name
        ) from exc
    end = body.tell()
    if end > size:  # a skip past the end (fastavro checks reads, this guards seeks)
        raise DecodeError(
            f"truncated or corrupt Avro body for {name}: the body ends {end - size} bytes "
            "beyond the message",
            record_name=name,
        )
    if end < size:
        raise DecodeError(
            f"{size - end} trailing bytes after the Avro body of {name}", record_name=name
        )
    if not isinstance(record, dict):  # pragma: no cover - a record schema reads a dict
        raise DecodeError(f"the body of {name} is not a record", record_name=name)
    return name, record


def _describe(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, EOFError):
        return f"unexpected end of data ({text})" if text else "unexpected end of data"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _preview(data: bytes, limit: int = 16) -> str:
    shown = data[:limit].hex(" ").upper()
    if not data:
        return "nothing"
    return shown + (" ..." if len(data) > limit else "")
