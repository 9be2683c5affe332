"""Reasons a person can read, for input that fails validation."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


def _location(loc: tuple[int | str, ...]) -> str:
    # drop the discriminator tag pydantic puts first for tagged unions
    parts = [str(p) for p in loc]
    return ".".join(parts)


def describe_validation_error(exc: ValidationError, raw: Any = None) -> str:
    """One line per problem: ``invalid DebtorListed: subject.id: <message>; ...``."""
    kind = raw.get("type") if isinstance(raw, dict) else None
    errors = exc.errors(include_url=False)
    if any(e["type"] in ("union_tag_invalid", "union_tag_not_found") for e in errors):
        kind = None  # no known type: say so rather than name the unknown one as the kind
    problems = []
    for error in errors:
        loc = tuple(error["loc"])
        if kind is None and loc and str(loc[0])[:1].isupper():
            kind = str(loc[0])  # the tagged union names the event type first
        if kind and loc and loc[0] == kind:
            loc = loc[1:]
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "union_tag_invalid":
            tag = error.get("ctx", {}).get("tag")
            message = f"unknown event type {tag!r}"
        elif error["type"] == "union_tag_not_found":
            message = "missing event type"
        problems.append(f"{_location(loc)}: {message}" if loc else message)
    return f"invalid {kind or 'event'}: " + "; ".join(problems)
