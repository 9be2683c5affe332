"""subject.status on the wire: Avro single-object encoding of SubjectStatus."""

from __future__ import annotations

from shixin.domain.subjects import SubjectStatus
from shixin.schemas.codec import decode, encode
from shixin.schemas.errors import DecodeError

RECORD = "cn.shixin.subject.v1.SubjectStatus"


def encode_status(status: SubjectStatus) -> bytes:
    return encode(RECORD, status.model_dump(mode="json"))


def decode_status(value: bytes) -> SubjectStatus:
    name, record = decode(value)
    if name != RECORD:
        raise DecodeError(f"{name} is not a subject status", record_name=name)
    return SubjectStatus.model_validate(record)
