"""Reasons a person can read, for input that fails validation."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


def _location(loc: tuple[int | str, ...]) -> str:
    # drop the discriminator tag pydantic puts first for tagged unions
    parts = [str(p) for p in loc]
    return ".".join(parts) or "(event)"


def describe_validation_error(exc: ValidationError, raw: Any = None) -> str:
    """One line per problem: ``invalid DebtorListed: subject.id: <message>; ...``."""
    kind = raw.get("type") if isinstance(raw, dict) else None
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if kind is None and loc and str(loc[0])[:1].isupper():
            kind = str(loc[0])  # the tagged union names the event type first
        if kind and loc and loc[0] == kind:
            loc = loc[1:]
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "union_tag_invalid":
            message = f"unknown event type {error.get('input', {}).get('type')!r}"
        elif error["type"] == "union_tag_not_found":
            message = "missing event type"
        problems.append(f"{_location(loc)}: {message}")
    return f"invalid {kind or 'event'}: " + "; ".join(problems)
