"""The dead letter record (`cn.shixin.deadletter.v1.DeadLetter`): bad input kept as data.

Mirrors ``avsc/cn.shixin.deadletter.v1/DeadLetter.avsc`` field for field. ``original`` is the
message value byte for byte; in the JSON form of the model it is base64.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

DEAD_LETTER_RECORD = "cn.shixin.deadletter.v1.DeadLetter"

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


class DeadLetter(BaseModel):
    """A message that failed to decode, validate or fit the lifecycle (DESIGN §1.5)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, ser_json_bytes="base64", val_json_bytes="base64"
    )

    event_id: str | None = None
    """The original's ``event_id`` if it could be read."""
    reason: str
    """Why it was rejected, for a person to read."""
    topic: str
    partition: Annotated[int, Field(ge=_INT_MIN, le=_INT_MAX)]
    offset: Annotated[int, Field(ge=_LONG_MIN, le=_LONG_MAX)]
    original: bytes
    at: AwareDatetime
    """When it was dead-lettered (RFC 3339 with offset on the wire)."""
