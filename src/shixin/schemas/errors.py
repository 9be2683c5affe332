"""The codec's errors: one for bytes we cannot read, one for records we cannot write."""

from __future__ import annotations


class DecodeError(Exception):
    """These bytes are not a message we can read; `reason` (= ``str(error)``) says why.

    Raised for anything wrong with the bytes themselves: no single-object header, an unknown
    writer schema fingerprint, a truncated or corrupt Avro body, trailing bytes. The caller turns
    it into a dead letter with `reason`. Decoding never raises anything else for any input.
    (A body that decodes but does not validate as a model is a different failure: pydantic's
    ``ValidationError``, raised by the model-level helpers in `shixin.schemas.model_codec`.)
    """

    def __init__(self, reason: str, *, record_name: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        #: The writer's record name, when the header named a known schema.
        self.record_name = record_name


class EncodeError(ValueError):
    """A record cannot be written: unknown record name, or it does not fit the schema.

    Always a programming error on the producing side (the record was built by our own code),
    never something a consumer has to expect from the wire.
    """


class SchemaError(ValueError):
    """An .avsc file or a schema passed to the registry is unusable."""
