"""Avro on the wire: the ``.avsc`` schemas, a registry of their versions, and the single-object
codec (DESIGN §3).

- `encode` / `decode`: plain records by full record name.
- `encode_model` / `decode_event` / `decode_model`: pydantic models (court and sanction events,
  `DeadLetter`, and whatever `register_model` binds).
- `DecodeError`: the only exception `decode` raises, whatever the bytes.
"""

from shixin.schemas.codec import HEADER_SIZE, MAGIC, decode, encode
from shixin.schemas.dead_letter import DEAD_LETTER_RECORD, DeadLetter
from shixin.schemas.errors import DecodeError, EncodeError, SchemaError
from shixin.schemas.model_codec import (
    COURT_NAMESPACE,
    SANCTION_NAMESPACE,
    decode_dead_letter,
    decode_event,
    decode_model,
    encode_model,
    model_of_record,
    record_name_of,
    register_model,
    to_record,
)
from shixin.schemas.registry import (
    RegisteredSchema,
    SchemaRegistry,
    default_registry,
    register_schema,
    schema_root,
)

__all__ = [
    "COURT_NAMESPACE",
    "DEAD_LETTER_RECORD",
    "HEADER_SIZE",
    "MAGIC",
    "SANCTION_NAMESPACE",
    "DeadLetter",
    "DecodeError",
    "EncodeError",
    "RegisteredSchema",
    "SchemaError",
    "SchemaRegistry",
    "decode",
    "decode_dead_letter",
    "decode_event",
    "decode_model",
    "default_registry",
    "encode",
    "encode_model",
    "model_of_record",
    "record_name_of",
    "register_model",
    "register_schema",
    "schema_root",
    "to_record",
]
