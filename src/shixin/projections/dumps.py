"""The projections' canonical JSON (DESIGN §7): what `run --dump` and `replay --dump` write.

UTF-8, keys sorted, 2-space indent, times in RFC 3339 with +08:00, dates as YYYY-MM-DD. Both
commands build the same plain structures here from their stores, so byte-identical files follow
from identical state.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from shixin.domain.entries import Entry
from shixin.domain.obligations import Obligation
from shixin.domain.sanctions import DepartmentSanction
from shixin.domain.subjects import SubjectState
from shixin.projections.steps import ModelStore

M = TypeVar("M", bound=BaseModel)

CST = timezone(timedelta(hours=8))
DUMP_FILES = (
    "entries.json",
    "subjects.json",
    "sanctions.json",
    "obligations.json",
    "findings.json",
    "dead_letters.json",
)


def cst(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(CST).isoformat()


def _models(store: Mapping[str, Any], model_type: type[M]) -> Iterator[tuple[str, M]]:
    """Each row of a store as its model: a replay's ModelStore holds them already (no JSON form
    made and validated back), any other store holds their JSON form."""
    if isinstance(store, ModelStore):
        for key, model in store.models():
            yield key, model  # type: ignore[misc]
    else:
        for key, raw in store.items():
            yield key, model_type.model_validate(raw)


def entries_view(entries: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for entry_id, entry in _models(entries, Entry):
        out[entry_id] = {
            "state": entry.state,
            "subject_id": entry.subject.id if entry.subject else None,
            "subject_kind": entry.subject.kind if entry.subject else None,
            "case_no": entry.case_no,
            "court": entry.court.code,
            "public": entry.public,
            "related_ids": sorted({p.id for p in entry.related_persons if p.id}),
            "version": entry.version,
            "warned_at": cst(entry.warned_at),
            "listed_at": cst(entry.listed_at),
            "left_at": cst(entry.left_at),
            "exit_ground": entry.exit_ground,
        }
    return out


def subjects_view(subjects: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for subject_id, state in _models(subjects, SubjectState):
        out[subject_id] = {
            "kind": state.kind,
            "active_entry_ids": state.active_entry_ids,
            "sanctionable": state.sanctionable,
        }
    return out


def sanctions_view(by_department: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for department, table in by_department.items():
        rows = {}
        for subject_id, sanction in _models(table, DepartmentSanction):
            rows[subject_id] = {
                "state": sanction.state,
                "measures": list(sanction.measures),
                "enforced": list(sanction.enforced),
                "entry_ids": list(sanction.entry_ids),
                "retained_until": (
                    sanction.retained_until.isoformat() if sanction.retained_until else None
                ),
            }
        out[department] = rows
    return out


def dead_letters_view(letters: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = [
        {
            "event_id": letter.get("event_id"),
            "reason": letter["reason"],
            "topic": letter["topic"],
            "partition": letter["partition"],
            "offset": letter["offset"],
        }
        for letter in letters
    ]
    # a record processed again after a crash is dead-lettered again: its position is its identity
    unique = {(r["topic"], r["partition"], r["offset"], r["reason"]): r for r in rows}
    return [unique[k] for k in sorted(unique)]


def canonical_json(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)`` and a newline, the
    same text made several times faster (the standard encoder is pure Python with an indent)."""
    try:
        return _encode(value, "\n") + "\n"
    except _Unusual:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


class _Unusual(Exception):
    """A value `_encode` leaves to the standard encoder (non-string keys, NaN, other types)."""


_encode_string = json.encoder.encode_basestring  # the C one when available, as json.dumps
_CONSTANTS: dict[Any, str] = {None: "null", True: "true", False: "false"}


def _encode(value: Any, newline: str) -> str:
    """The JSON text of `value`; `newline` is a newline and the current indent."""
    kind = type(value)
    if kind is str:
        return _encode_string(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = newline + "  "
        for key in value:
            if type(key) is not str:
                raise _Unusual
        return (
            "{"
            + inner
            + ("," + inner).join(
                [_encode_string(key) + ": " + _encode(value[key], inner) for key in sorted(value)]
            )
            + newline
            + "}"
        )
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        inner = newline + "  "
        return "[" + inner + ("," + inner).join([_encode(v, inner) for v in value]) + newline + "]"
    if value is None or kind is bool:
        return _CONSTANTS[value]
    if kind is int:
        return int.__repr__(value)
    if kind is float and value == value and value not in (math.inf, -math.inf):
        return float.__repr__(value)
    raise _Unusual


def write_dumps(directory: Path, views: Mapping[str, Any]) -> None:
    """Write each view atomically (temp file + rename): no half-written dump is ever left."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in DUMP_FILES:
        view = name.removesuffix(".json")
        value = views.get(view, [] if view in ("findings", "dead_letters") else {})
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(canonical_json(value))
        os.replace(tmp, directory / name)


def obligations_view(
    entries: Mapping[str, Any], by_department: Mapping[str, Mapping[str, Any]], now: datetime
) -> dict[str, Any]:
    """Every obligation opened by `now`, judged at `now` (DESIGN §7)."""
    found: list[Obligation] = []
    for _, entry in _models(entries, Entry):
        found += entry.obligations
    for table in by_department.values():
        for _, sanction in _models(table, DepartmentSanction):
            found += sanction.lifts
    out = {}
    for o in found:
        if o.opened_at > now:
            continue  # not due to open yet (a listing term that has not ended)
        out[o.id] = {
            "kind": o.kind,
            "entry_id": o.entry_id,
            "department": o.department,
            "subject_id": o.subject_id,
            "opened_at": cst(o.opened_at),
            "due_on": o.due_on.isoformat() if o.due_on else None,
            "closed_at": cst(o.closed_at),
            "verdict": o.judged(now),
        }
    return out


def findings_view(entries: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = [
        {
            "kind": f.kind,
            "entry_id": f.entry_id,
            "event_id": str(f.event_id),
            "detail": f.detail,
        }
        for _, entry in _models(entries, Entry)
        for f in entry.findings
    ]
    return sorted(rows, key=lambda r: (r["entry_id"], r["kind"], r["event_id"]))


def all_views(
    entries: Mapping[str, Any],
    subjects: Mapping[str, Any],
    sanctions: Mapping[str, Mapping[str, Any]],
    dead_letters: Iterable[Mapping[str, Any]],
    now: datetime | None,
) -> dict[str, Any]:
    """Every dump file's content; `now` judges the deadlines (None: nothing seen, no deadline)."""
    return {
        "entries": entries_view(entries),
        "subjects": subjects_view(subjects),
        "sanctions": sanctions_view(sanctions),
        "obligations": obligations_view(entries, sanctions, now) if now else {},
        "findings": findings_view(entries),
        "dead_letters": dead_letters_view(dead_letters),
    }
