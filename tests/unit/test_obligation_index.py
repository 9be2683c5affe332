"""The api's obligation index (`web/obligation_index.py`): the dashboard's and `/metrics`'
deadline counts, the listings of `/v1/obligations` and `/v1/breaches` (of a department, of a
court; their totals and any page of them), the lift times and `/v1/sla`'s summary, always what
judging every obligation gives, through obligations opened, closed, replaced and deleted, at
any time of judgement."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st
from sortedcontainers import SortedList

from shixin.domain.deadlines import CST
from shixin.domain.obligations import Obligation
from shixin.projections.sla_report import (
    HOUR_BINS,
    hours_distribution,
    percentile,
    select,
    summary,
)
from shixin.runtime.catalogs import get_catalog
from shixin.web import obligation_index
from shixin.web.obligation_index import LATE_MOST
from shixin.web.readmodels import ReadModels
from shixin.web.replicas import ReplicaState

CATALOG = get_catalog()
START = datetime(2024, 3, 1, tzinfo=CST)
KINDS = ["court_exit", "correction_review", "department_lift"]

obligation_steps = st.lists(
    st.tuples(
        st.integers(0, 23),  # which obligation id
        st.one_of(
            st.none(),  # deleted
            st.tuples(
                st.sampled_from(KINDS),
                st.integers(0, 40),  # opened, days after START
                st.one_of(st.none(), st.integers(0, 20)),  # due, days after opening
                st.one_of(st.none(), st.integers(0, 30)),  # closed, days after opening
            ),
        ),
    ),
    max_size=60,
)


def _record(n: int, kind: str, opened: int, due: int | None, closed: int | None) -> bytes:
    opened_at = START + timedelta(days=opened, hours=n)
    obligation = Obligation(
        id=f"O{n}",
        kind=kind,  # type: ignore[arg-type]
        department=("aviation", "railway")[n % 2] if kind != "court_exit" else None,
        court=("C1", "C2", None)[n % 3],
        opened_at=opened_at,
        due_on=None if due is None else opened_at.date() + timedelta(days=due),
        closed_at=None if closed is None else opened_at + timedelta(days=closed, hours=3),
    )
    return json.dumps({"obligation": obligation.model_dump(mode="json")}).encode()


def _judged_all(read: ReadModels, now: datetime) -> dict[str, Any]:
    """What the api computed before the index: every obligation judged."""
    everything = list(read.obligations())
    return {
        "counts": Counter((o.kind, o.judged(now)) for o in everything if o.opened_at <= now),
        "breached": [o.id for o in select(everything, now, "breached")][:3],
        "listed": {
            (v, d, c): [o.id for o in select(everything, now, v, d, c)]
            for v in (None, "open", "met", "missed", "breached")
            for d in (None, "aviation")
            for c in (None, "C1")
        },
        "summary": summary(everything, now),
        "lift_hours": sorted(
            (o.closed_at - o.opened_at).total_seconds() / 3600
            for o in everything
            if o.kind == "department_lift" and o.closed_at is not None
        ),
    }


@settings(max_examples=200, deadline=None)
@given(obligation_steps, st.lists(st.integers(-5, 90), min_size=1, max_size=4))
def test_the_index_answers_as_judging_every_obligation(steps: list[Any], days: list[int]) -> None:
    state = ReplicaState(CATALOG)
    read = ReadModels(state, CATALOG)
    dues = set()
    for n, change in steps:
        state.obligations.put_raw(f"O{n}", None if change is None else _record(n, *change))
        if change is not None and change[2] is not None:
            dues.add(change[1] + change[2])
    # the day before, of and after each due date: where "open" turns "breached"
    around = {d + shift for d in dues for shift in (-1, 0, 1)}
    for day in sorted({*days, *around}):
        now = START + timedelta(days=day, hours=12)
        assert state.deadlines.answers_at(now)  # also before some were opened: left out
        expected = _judged_all(read, now)
        assert read.deadline_counts(now) == +expected["counts"]
        assert [r["id"] for r in read.breached_rows(now, 3)] == expected["breached"]
        for (v, d, c), ids in expected["listed"].items():
            total, rows = read.obligation_page(now, v, d, c)
            assert (total, [r["id"] for r in rows]) == (len(ids), ids)
            for offset in range(len(ids) + 2):  # every page of 1 and of 3, and past the end
                assert read.obligation_page(now, v, d, c, offset, 1)[1] == rows[offset : offset + 1]
                if state.deadlines.answers_at(now):
                    assert state.deadlines.page(now, v, d, c, offset, 3) == (
                        len(ids),
                        ids[offset : offset + 3],
                    )
        assert read.lift_times() == hours_distribution(expected["lift_hours"])
        assert read.sla_summary(now) == expected["summary"]


def test_obligations_opened_after_the_time_asked_are_left_out() -> None:
    """An obligation opened after `now` is not counted: the index leaves it out (a court's clock
    ahead must not cost a full scan per request), or, with too many such, a full scan does."""
    state = ReplicaState(CATALOG)
    read = ReadModels(state, CATALOG)
    state.obligations.put_raw("O1", _record(1, "court_exit", 0, 3, None))
    state.obligations.put_raw("O2", _record(2, "court_exit", 30, 3, None))
    state.obligations.put_raw("O3", _record(3, "department_lift", 31, 3, 1))
    early = START + timedelta(days=10)
    late = datetime(2025, 1, 1, tzinfo=UTC)
    for most, answers in ((LATE_MOST, True), (1, False)):
        with mock.patch.object(obligation_index, "LATE_MOST", most):
            assert state.deadlines.answers_at(early) is answers
            assert read.deadline_counts(early) == Counter({("court_exit", "breached"): 1})
            assert read.obligation_page(early) == (1, read.obligation_page(late, limit=1)[1])
            assert set(read.sla_summary(early)["courts"]) == {"C2"}  # O1's court only
            assert read.sla_summary(early)["departments"] == {}
            assert state.deadlines.answers_at(late)
            assert read.deadline_counts(late) == Counter(
                {("court_exit", "breached"): 2, ("department_lift", "met"): 1}
            )
            assert [r["id"] for r in read.breached_rows(late, 5)] == ["O1", "O2"]
    assert date(2024, 3, 4) == START.date() + timedelta(days=3)


def test_lift_times_per_department_are_the_reports() -> None:
    """Median and 95th percentile of the hours to lift, per department, over many lifts."""
    state = ReplicaState(CATALOG)
    read = ReadModels(state, CATALOG)
    for n in range(40):  # closed lifts of two departments, 3 h to 39 days after opening
        state.obligations.put_raw(f"O{n}", _record(n, "department_lift", n % 9, 5, n))
    state.obligations.put_raw("O3", None)  # one forgotten, one reopened
    state.obligations.put_raw("O4", _record(4, "department_lift", 0, 5, None))
    now = START + timedelta(days=60)
    assert state.deadlines.answers_at(now)
    assert read.sla_summary(now) == summary(read.obligations(), now)
    assert read.sla_summary(now)["departments"]["aviation"]["lift_hours_p95"] > 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from([0.0, 0.5, 1.0, 23.9, 24.0, 47.0, 72.0, 240.0, 999.0]) | st.floats(0, 500)
    )
)
def test_the_distribution_of_hours_is_counted_as_one_by_one(hours: list[float]) -> None:
    """Bins by bisection, median and 95th percentile by index: what counting each gives."""
    found = hours_distribution(sorted(hours))
    assert found["closed"] == len(hours)
    assert [b["count"] for b in found["bins"]] == [
        sum(1 for h in hours if h >= low and (high is None or h < high))
        for low, high, _ in HOUR_BINS
    ]
    if hours:
        assert found["median_hours"] == round(statistics.median(hours), 2)
        assert found["p95_hours"] == round(percentile(hours, 0.95) or 0.0, 2)
    else:
        assert found["median_hours"] is found["p95_hours"] is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=30), st.data())
def test_hours_left_out_without_a_copy_are_what_removing_them_gives(
    values: list[int], data: st.DataObject
) -> None:
    """The lift times of a department with some lifts left out (opened after `now`), equal
    values among them: read by position as the list with those removed."""
    hours = [float(v) for v in values]
    left_out = data.draw(st.lists(st.sampled_from(hours)) if hours else st.just([]))
    expected = sorted(hours)
    kept_out: list[float] = []
    for value in left_out:
        if value in expected:
            expected.remove(value)
            kept_out.append(value)
    view = obligation_index._Without(SortedList(hours), kept_out)
    assert len(view) == len(expected)
    assert [view[i] for i in range(len(view))] == expected
    assert list(view) == expected and (not expected or view[-1] == expected[-1])
