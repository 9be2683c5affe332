"""Reasons a person can read, for input that fails validation."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

# A reason travels in a dead letter and on a terminal: an absurd input (a 1 MB "case number")
# must not make it absurd too.
MAX_PROBLEM_CHARS = 400


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _clip(text: str) -> str:
    if len(text) <= MAX_PROBLEM_CHARS:
        return text
    more = len(text) - MAX_PROBLEM_CHARS + 1
    return f"{text[: MAX_PROBLEM_CHARS - 1]}\u2026 ({more} more characters)"


def _message(error: Any) -> str:
    kind = error["type"]
    message: str = error["msg"].removeprefix("Value error, ")
    if kind == "union_tag_invalid":
        ctx = error.get("ctx", {})
        return (
            f"unknown event type {_shown(ctx.get('tag'))} "
            f"(the type field must be one of {ctx.get('expected_tags')})"
        )
    if kind == "union_tag_not_found":
        return "missing event type (the type field is required)"
    if kind == "missing":
        return "missing (a required field)"
    if kind == "extra_forbidden":
        return "unknown field (not part of the contract)"
    if kind == "timezone_aware":
        return (
            f"has no UTC offset, got {_shown(error.get('input'))} (must be an RFC 3339 "
            "timestamp with an offset, e.g. 2024-03-11T10:00:00+08:00)"
        )
    if kind in ("string_too_long", "too_long") and hasattr(error.get("input"), "__len__"):
        return f"{message}, got {len(error['input'])}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{message}, got {_shown(error.get('input'))}"
    if kind in ("literal_error", "enum"):
        return f"{message}, got {_shown(error.get('input'))}"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        # "Input should be a valid integer": say what came instead
        return f"{message}, got {_shown(error.get('input'))}"
    return message


def describe_validation_error(exc: ValidationError, raw: Any = None) -> str:
    """One line per problem: ``invalid DebtorListed: subject.id: <message>; ...``."""
    kind = raw.get("type") if isinstance(raw, dict) else None
    errors = exc.errors(include_url=False)
    if any(e["type"] in ("union_tag_invalid", "union_tag_not_found") for e in errors):
        kind = None  # no known type: say so rather than name the unknown one as the kind
    if not isinstance(kind, str):
        kind = None
    problems = []
    for error in errors:
        loc = tuple(error["loc"])
        if kind is None and loc and str(loc[0])[:1].isupper():
            kind = str(loc[0])  # the tagged union names the event type first
        if kind and loc and loc[0] == kind:
            loc = loc[1:]
        message = _clip(_message(error))
        problems.append(f"{_location(loc)}: {message}" if loc else message)
    return f"invalid {kind or 'event'}: " + "; ".join(problems)
