"""Interception checks (自动比对、自动拦截): may this subject do this thing now?

The answer follows the law, not a department's backlog: a measure blocks while a listed entry
requires it, or while a department keeps it under a retention (legal basis and end date) that has
not ended. A manual department that has not yet confirmed a lift does not keep a debtor blocked
once the entry has left the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from pydantic import BaseModel, ConfigDict

from shixin.domain.build import build
from shixin.domain.catalog import Catalog
from shixin.domain.sanctions import DepartmentSanction, required_measures
from shixin.domain.subjects import SubjectState


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BlockingEntry(_Model):
    entry_id: str
    case_no: str
    court_code: str
    court_name: str


class Block(_Model):
    measure: str
    department: str
    reason: str  # "listed" or "retained until YYYY-MM-DD"
    entries: tuple[BlockingEntry, ...]


class CheckResult(_Model):
    subject_id: str
    action: str
    allowed: bool
    blocks: tuple[Block, ...]


class UnknownAction(ValueError):
    pass


def check(
    catalog: Catalog,
    subject_id: str,
    action: str,
    subject: SubjectState | None,
    sanctions: Mapping[str, DepartmentSanction],
    today: date,
) -> CheckResult:
    """`sanctions`: the subject's row in each department's table (only retentions matter)."""
    measures = catalog.measures_blocking(action)
    if not measures:
        raise UnknownAction(f"no measure of the catalog blocks {action!r}")
    blocks: list[Block] = []
    active = [e for e in subject.entries.values() if e.active] if subject else []
    by_id = {e.entry_id: e for e in active}
    # department -> measure id -> the entries requiring it (a department may enforce several
    # of the measures blocking the action: computed once per department)
    required_of: dict[str, dict[str, set[str]]] = {}
    for measure in measures:
        for department in measure.departments:
            required = required_of.get(department)
            if required is None:
                required = required_of[department] = (
                    required_measures(catalog, department, active, subject.kind)
                    if subject and active
                    else {}
                )
            entry_ids = sorted(required.get(measure.id, ()))
            if entry_ids:
                # built, not validated: every value comes from the validated subject and catalog
                blocks.append(
                    build(
                        Block,
                        measure=measure.id,
                        department=department,
                        reason="listed",
                        entries=tuple(
                            build(
                                BlockingEntry,
                                entry_id=e,
                                case_no=by_id[e].case_no,
                                court_code=by_id[e].court_code,
                                court_name=by_id[e].court_name,
                            )
                            for e in entry_ids
                        ),
                    )
                )
                continue
            row = sanctions.get(department)
            if (
                row is not None
                and measure.id in row.retained
                and row.retained_until is not None
                and today <= row.retained_until
            ):
                blocks.append(
                    build(
                        Block,
                        measure=measure.id,
                        department=department,
                        reason=f"retained until {row.retained_until.isoformat()}",
                        entries=(),
                    )
                )
    return CheckResult(
        subject_id=subject_id, action=action, allowed=not blocks, blocks=tuple(blocks)
    )
