"""What the api computes over its replicas: the same read models the CLI gives from the broker,
built with the same functions (`shixin.projections.queries`, `shixin.projections.sla_report`,
`shixin.domain.checks`)."""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic_core import from_json

from shixin.domain.catalog import Catalog
from shixin.domain.checks import CheckResult, check
from shixin.domain.events import COURT_EVENT_TYPES
from shixin.domain.obligations import Obligation
from shixin.domain.sanctions import DepartmentSanction
from shixin.domain.subjects import SubjectState
from shixin.projections.dumps import cst
from shixin.projections.queries import subject_document
from shixin.projections.sla_report import select, summary
from shixin.schemas.dead_letter import DeadLetter
from shixin.schemas.model_codec import decode_event, decode_model
from shixin.web.replicas import ReplicaState

CHECK_ANSWERS = 200_000  # check answers remembered (about 1 KB each)
# an 18-character resident ID inside free text (a dead letter's reason): masked on the dashboard
_RESIDENT_ID = re.compile(r"\b(\d{10})(\d{4})(\d{3}[\dXx])\b")


@dataclass(frozen=True, slots=True)
class CheckAnswer:
    result: CheckResult
    body: bytes  # result.model_dump_json(), what the api answers


@dataclass(frozen=True, slots=True)
class _Remembered:
    raw: bytes | None  # the subject's row as replicated (None: none)
    rows: tuple[bytes | None, ...]  # its row in each department blocking the action
    today: date
    answer: CheckAnswer


class ReadModels:
    def __init__(
        self, state: ReplicaState, catalog: Catalog, check_answers: int = CHECK_ANSWERS
    ) -> None:
        self.state = state
        self.catalog = catalog
        self._blocking: dict[str, list[str]] = {}
        # (subject id, action) -> the last check answer and what it was computed from
        self._checks: OrderedDict[tuple[str, str], _Remembered] = OrderedDict()
        self.check_answers = check_answers

    def blocking_departments(self, action: str) -> list[str]:
        found = self._blocking.get(action)
        if found is None:  # the catalog is fixed for the process: computed once per action
            measures = self.catalog.measures_blocking(action)
            found = sorted({d for m in measures for d in m.departments})
            if found:  # an action no measure blocks is not remembered (any text may be asked)
                self._blocking[action] = found
        return found

    def check(self, subject_id: str, action: str, today: date) -> CheckResult:
        """`shixin check`'s answer (UnknownAction for an action no measure blocks)."""
        return self.check_answer(subject_id, action, today).result

    def check_answer(self, subject_id: str, action: str, today: date) -> CheckAnswer:
        """`check`'s answer with its JSON. `shixin.domain.checks.check` decides; its answer is
        remembered with the raw rows it was computed from (the subject's, and the subject's row
        in each department blocking the action) and the day, and given again while the replica
        holds those very rows (it replaces a row's dict when the row changes, never edits it)
        on the same day. Only subjects the replica holds something on are remembered, at most
        `CHECK_ANSWERS` answers, the oldest forgotten first."""
        departments = self.blocking_departments(action)
        subjects, sanctions = self.state.subjects, self.state.sanctions
        raw = subjects.stored(subject_id)
        rows = tuple(
            sanctions[d].stored(subject_id) if d in sanctions else None for d in departments
        )
        key = (subject_id, action)
        hit = self._checks.get(key)
        if (
            hit is not None
            and hit.raw is raw
            and hit.today == today
            and all(a is b for a, b in zip(hit.rows, rows, strict=True))
        ):
            return hit.answer
        subject = (
            SubjectState.model_validate_json(subjects.unpack(raw)) if raw is not None else None
        )
        models = {
            d: DepartmentSanction.model_validate_json(sanctions[d].unpack(row))
            for d, row in zip(departments, rows, strict=True)
            if row is not None
        }
        result = check(self.catalog, subject_id, action, subject, models, today)
        answer = CheckAnswer(result, result.model_dump_json().encode())
        if raw is None and all(row is None for row in rows):
            self._checks.pop(key, None)  # nothing held on the subject: nothing to remember
        else:
            if hit is None and len(self._checks) >= self.check_answers:
                self._checks.popitem(last=False)
            self._checks[key] = _Remembered(raw, rows, today, answer)
        return answer

    def subject(self, subject_id: str) -> dict[str, Any]:
        """`shixin query subject --json`'s document."""
        rows = {
            dept: table[subject_id]
            for dept, table in self.state.sanctions.items()
            if subject_id in table
        }
        return subject_document(self.state.subjects.get(subject_id), rows)

    def obligations(self) -> Iterator[Obligation]:
        """Every obligation of the replica, parsed one by one as the caller goes (none kept:
        millions at a million subjects). Only a judgement the index cannot make scans them."""
        rows = self.state.obligations
        for _, raw in rows.stored_items():
            yield Obligation.model_validate(from_json(rows.unpack(raw))["obligation"])

    def obligation_page(
        self,
        now: datetime,
        status: str | None = None,
        department: str | None = None,
        court: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """How many of `shixin query obligations --json`'s rows there are, and `limit` of them
        from `offset`."""
        if self.state.deadlines.answers_at(now):
            total, ids = self.state.deadlines.page(now, status, department, court, offset, limit)
            return total, [self._row(self._obligation(key), now) for key in ids]
        found = select(self.obligations(), now, status, department, court)
        shown = found[offset : None if limit is None else offset + limit]
        return len(found), [self._row(o, now) for o in shown]

    @staticmethod
    def _row(o: Obligation, now: datetime) -> dict[str, Any]:
        return {
            **o.model_dump(mode="json"),
            "opened_at": cst(o.opened_at),
            "closed_at": cst(o.closed_at),
            "verdict": o.judged(now),
        }

    def deadline_counts(self, now: datetime) -> Counter[tuple[str, str]]:
        """(kind, verdict) -> obligations opened by `now`."""
        if self.state.deadlines.answers_at(now):
            return self.state.deadlines.counts(now)
        return Counter((o.kind, o.judged(now)) for o in self.obligations() if o.opened_at <= now)

    def sla_summary(self, now: datetime) -> dict[str, Any]:
        """`shixin query sla`'s summary at `now`."""
        if self.state.deadlines.answers_at(now):
            return self.state.deadlines.summary(now)
        return summary(self.obligations(), now)

    def breached_rows(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        """The first `limit` breached obligations' rows."""
        return self.obligation_page(now, "breached", limit=limit)[1]

    def _obligation(self, key: str) -> Obligation:
        """One obligation of the replica, parsed."""
        return Obligation.model_validate(self.state.obligations[key]["obligation"])

    def listed_entries(self) -> int:
        return self.state.entries.count("listed")

    def sanctionable_subjects(self) -> int:
        return self.state.subjects.count("sanctionable")

    def sanctions_by_department(self) -> dict[str, dict[str, int]]:
        return {
            dept: table.counts() for dept, table in sorted(self.state.sanctions.items()) if table
        }

    def sanctioned_subjects(self) -> int:
        """Subjects at least one department enforces a measure against now."""
        return self.state.sanctioned_subjects()

    def recent_events(self, limit: int = 20) -> list[dict[str, Any]]:
        """The last court events and feedback, newest first, without personal data."""
        out: list[dict[str, Any]] = []
        for item in sorted(self.state.recent_events, key=lambda r: r.timestamp_ms, reverse=True):
            if len(out) >= limit or item.value is None:
                break
            try:
                event = decode_event(item.value)
            except Exception:  # undecodable: the dead letters show it
                continue
            row: dict[str, Any] = {"type": event.type, "topic": item.topic}
            if isinstance(event, COURT_EVENT_TYPES):
                row.update(
                    at=cst(event.occurred_at),
                    entry_id=event.entry_id,
                    case_no=event.case_no,
                    court=event.court.name,
                    department=None,
                )
            else:
                row.update(
                    at=cst(event.at),  # type: ignore[union-attr]
                    entry_id=None,
                    case_no=None,
                    court=None,
                    department=event.department,  # type: ignore[union-attr]
                )
            out.append(row)
        return out

    def recent_dead_letters(self, limit: int = 20) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for item in sorted(
            self.state.recent_dead_letters, key=lambda r: r.timestamp_ms, reverse=True
        ):
            if len(out) >= limit or item.value is None:
                break
            try:
                letter = decode_model(item.value, DeadLetter)
            except Exception:
                continue
            out.append(
                {
                    "at": cst(letter.at),
                    "reason": mask_ids(letter.reason),
                    "topic": letter.topic,
                    "partition": letter.partition,
                    "offset": letter.offset,
                }
            )
        return out

    def lift_times(self) -> dict[str, Any]:
        """How long every department lift done took (`sla_report.hours_distribution`)."""
        return self.state.deadlines.lift_times()


def mask_ids(text: str) -> str:
    return _RESIDENT_ID.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
