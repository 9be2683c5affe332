"""The api's remembered check answers (`ReadModels.check_answer`): always what the domain's check
gives over the replica's rows as they are now, whether a row was replaced, removed or added, or
a day passed."""

from __future__ import annotations

import itertools
import json
from datetime import date
from typing import Any

import pytest

from shixin.domain.checks import CheckResult, UnknownAction, check
from shixin.domain.events import COURT_EVENT_ADAPTER, SANCTION_EVENT_ADAPTER
from shixin.domain.sanctions import DepartmentSanction
from shixin.domain.subjects import SubjectState
from shixin.projections.steps import confirmation_step, department_step, intake_step, subject_step
from shixin.runtime.catalogs import get_catalog, get_policy
from shixin.web.readmodels import ReadModels
from shixin.web.replicas import ReplicaState
from tests.builders import confirmation, entity_id, listed, person_id, shielded

CATALOG = get_catalog()
POLICY = get_policy("brief")
TODAY = date(2024, 6, 1)
_offsets = itertools.count()


class World:
    """A replica fed as the api's tailer feeds it: every changed row is a new dict."""

    def __init__(self, check_answers: int = 1000, departments: bool = True) -> None:
        self.departments = CATALOG.departments if departments else ()
        self.state = ReplicaState(CATALOG)
        self.entries: dict[str, Any] = {}
        self.read = ReadModels(self.state, CATALOG, check_answers=check_answers)

    def court(self, raw: dict[str, Any]) -> None:
        event = COURT_EVENT_ADAPTER.validate_python(raw)
        facets, _ = intake_step(self.entries, event, f"t/0@{next(_offsets)}", POLICY)
        for facet in facets:
            status = subject_step(self.state.subjects, facet)
            if status is None:
                continue
            for department in self.departments:
                department_step(
                    self.state.sanctions[department.id], status, CATALOG, department, None, POLICY
                )

    def confirm(self, raw: dict[str, Any]) -> None:
        event = SANCTION_EVENT_ADAPTER.validate_python(raw)
        assert confirmation_step(self.state.sanctions[event.department], event) is not None

    def fresh(self, subject_id: str, action: str, today: date) -> CheckResult:
        """The domain's answer over the rows as they are now (nothing remembered)."""
        raw = self.state.subjects.get(subject_id)
        rows = {
            d: DepartmentSanction.model_validate(table[subject_id])
            for d, table in self.state.sanctions.items()
            if subject_id in table
        }
        subject = SubjectState.model_validate(raw) if raw is not None else None
        return check(CATALOG, subject_id, action, subject, rows, today)

    def answer(self, subject_id: str, action: str = "air.ticket", today: date = TODAY) -> Any:
        answer = self.read.check_answer(subject_id, action, today)
        expected = self.fresh(subject_id, action, today)
        assert answer.result == expected
        assert self.read.check(subject_id, action, today) == expected
        assert answer.body == expected.model_dump_json().encode()
        return json.loads(answer.body)


@pytest.mark.parametrize("departments", [True, False], ids=["with", "without_departments"])
def test_a_replaced_subject_row_gives_the_new_answer(departments):
    # without the departments' rows, only the subject's row changes
    world, p = World(departments=departments), person_id(4001)
    world.court(listed("C1", p))
    first = world.answer(p)
    assert first["allowed"] is False and first["blocks"][0]["entries"][0]["entry_id"] == "C1"
    assert world.answer(p) == first  # asked again: the same answer
    world.court(shielded("C1", "2024-04-01T10:00:00+08:00"))
    assert world.answer(p)["allowed"] is True
    world.court(listed("C2", p, at="2024-05-01T10:00:00+08:00"))
    again = world.answer(p)
    assert again["allowed"] is False and again["blocks"][0]["entries"][0]["entry_id"] == "C2"


def test_a_retention_ends_with_its_day_and_a_replaced_sanction_row_counts():
    world, p = World(), person_id(4002)
    world.court(listed("C3", p))
    assert world.answer(p, "school.private_high_fee")["allowed"] is False
    # education is manual: a person applies, then keeps the measure after the entry leaves
    at = "2024-03-20T10:00:00+08:00"
    world.confirm(confirmation("SanctionsApplied", "education", p, at))
    world.confirm(
        {
            **confirmation("SanctionsRetained", "education", p, at),
            "legal_basis": "(2024)赣0483执恢1号",
            "until": "2024-06-30",
        }
    )
    world.court(shielded("C3", "2024-04-01T10:00:00+08:00"))
    retained = world.answer(p, "school.private_high_fee")
    assert retained["blocks"][0]["reason"] == "retained until 2024-06-30"
    assert world.answer(p, "school.private_high_fee", date(2024, 7, 1))["allowed"] is True
    assert world.answer(p, "school.private_high_fee") == retained  # back on a day it held
    # the department's row replaced (the retention lifted): the new answer at once
    row = world.state.sanctions["education"][p]
    world.state.sanctions["education"][p] = {**row, "retained": [], "retained_until": None}
    assert world.answer(p, "school.private_high_fee")["allowed"] is True


def test_rows_removed_or_never_there():
    world, p = World(), person_id(4003)
    world.court(listed("C4", p))
    assert world.answer(p)["allowed"] is False
    del world.state.subjects[p]  # a tombstone on the changelog
    del world.state.sanctions["aviation"][p]
    assert world.answer(p)["allowed"] is True
    assert world.answer(person_id(4999))["allowed"] is True  # never listed
    with pytest.raises(UnknownAction):
        world.read.check_answer(p, "fly.away", TODAY)


def test_every_measure_a_department_enforces_for_the_action_blocks():
    world, company = World(), entity_id(4004)
    world.court(listed("C5", company, kind="entity"))
    blocks = world.answer(company, "credit.loan")["blocks"]
    assert [(b["measure"], b["department"]) for b in blocks] == [
        ("access.realestate_construction_loan", "banks"),
        ("honour.bank_credit", "banks"),
    ]


def test_answers_stay_right_beyond_the_number_remembered():
    world = World(check_answers=2)
    people = [person_id(4010 + n) for n in range(4)]
    for n, p in enumerate(people):
        world.court(listed(f"D{n}", p))
    for p in people * 3:
        assert world.answer(p)["allowed"] is False
    world.court(shielded("D0", "2024-04-01T10:00:00+08:00"))
    assert world.answer(people[0])["allowed"] is True
    assert len(world.read._checks) <= 2
