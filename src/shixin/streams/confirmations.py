"""A person's confirmation of a manual department's task, built once for the CLI
(`shixin department confirm`) and the HTTP API (`POST /v1/departments/{id}/confirmations`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from shixin.domain.catalog import Catalog
from shixin.domain.events import SANCTION_EVENT_ADAPTER, SanctionEvent
from shixin.domain.reasons import describe_validation_error

Action = Literal["apply", "lift", "retain"]
ACTIONS: tuple[Action, ...] = ("apply", "lift", "retain")
EVENT_TYPES = {
    "apply": "SanctionsApplied",
    "lift": "SanctionsLifted",
    "retain": "SanctionsRetained",
}


class ConfirmationError(ValueError):
    """The confirmation cannot be built; the message says why, for a person."""


def build_confirmation(
    catalog: Catalog,
    department_id: str,
    subject_id: str,
    action: str,
    measures: tuple[str, ...] | list[str] = (),
    at: str | None = None,
    legal_basis: str | None = None,
    until: str | None = None,
) -> SanctionEvent:
    """The `SanctionsApplied` / `SanctionsLifted` / `SanctionsRetained` event of origin
    ``person``; `at` defaults to now. Raises ConfirmationError."""
    if department_id not in catalog.department_by_id:
        raise ConfirmationError(f"unknown department {department_id!r}")
    if action not in EVENT_TYPES:
        raise ConfirmationError(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
    raw: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "type": EVENT_TYPES[action],
        "department": department_id,
        "subject_id": subject_id,
        "measures": list(measures),
        "at": at or datetime.now().astimezone().isoformat(),
        "origin": "person",
    }
    if action == "retain":
        if not legal_basis or not until:
            raise ConfirmationError("retain needs a legal basis and an end date (until)")
        raw.update(legal_basis=legal_basis, until=until)
    try:
        return SANCTION_EVENT_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        raise ConfirmationError(describe_validation_error(exc, raw)) from exc
