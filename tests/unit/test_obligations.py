"""Obligations: when they open, when they are due, and that event time (not processing order)
decides which lifts are owed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shixin.audit.replay import Replay
from shixin.domain.events import ANY_EVENT_ADAPTER
from shixin.domain.obligations import gap_starts
from shixin.runtime.catalogs import get_catalog, get_policy
from shixin.runtime.settings import Settings
from tests.builders import corrected, listed, performed, person_id, shielded

CST = timezone(timedelta(hours=8))


def t(day: int, hour: int = 10) -> datetime:
    return datetime(2024, 3, day, hour, tzinfo=CST)


def test_gap_starts_are_the_ends_of_overlapping_runs():
    assert gap_starts([]) == []
    assert gap_starts([(t(1), None)]) == []
    assert gap_starts([(t(1), t(5))]) == [t(5)]
    assert gap_starts([(t(1), t(5)), (t(3), t(8))]) == [t(8)]
    assert gap_starts([(t(3), t(8)), (t(1), t(5)), (t(10), None)]) == [t(8)]
    assert gap_starts([(t(1), t(2)), (t(4), t(6))]) == [t(2), t(6)]


def replay(events, policy="brief"):
    r = Replay(Settings(), get_catalog(), get_policy(policy))
    for raw in events:
        r.event(ANY_EVENT_ADAPTER.validate_python(raw))
    return r.views()


def test_court_exit_is_due_three_days_after_performance_under_the_brief():
    p = person_id(3001)
    views = replay([listed("O1", p), performed("O1", "2026-09-30T10:00:00+08:00")])
    row = views["obligations"]["court_exit/O1/performed"]
    assert row["due_on"] == "2026-10-08" and row["verdict"] == "open"
    spc = replay([listed("O1", p), performed("O1", "2026-09-30T10:00:00+08:00")], "spc-2017")
    assert spc["obligations"]["court_exit/O1/performed"]["due_on"] == "2026-10-10"


def test_a_lift_is_owed_only_when_no_entry_requires_it_in_event_time():
    p = person_id(3002)
    a_listed = listed("A", p, at="2024-03-01T10:00:00+08:00")
    a_left = shielded("A", "2024-03-05T10:00:00+08:00")
    b_listed = listed("B", p, at="2024-03-03T10:00:00+08:00")  # overlaps A: no lift at A's end
    b_left = shielded("B", "2024-03-20T10:00:00+08:00")
    in_time_order = replay([a_listed, b_listed, a_left, b_left])["obligations"]
    # the live pipeline may learn all of A before any of B (other partition)
    a_first = replay([a_listed, a_left, b_listed, b_left])["obligations"]
    lifts = {k: v for k, v in in_time_order.items() if k.startswith("department_lift/aviation/")}
    assert list(lifts) == [f"department_lift/aviation/{p}/20240320T020000Z"]
    assert {k: v for k, v in a_first.items()} == in_time_order
    assert lifts[f"department_lift/aviation/{p}/20240320T020000Z"]["verdict"] == "met"


def test_a_correction_away_from_a_subject_owes_them_a_lift():
    old, new = person_id(3003), person_id(3004)
    views = replay(
        [
            listed("C", old),
            corrected(
                "C",
                {"subject": {"kind": "person", "id": new, "name": "张三"}},
                "2024-03-12T10:00:00+08:00",
            ),
        ]
    )
    lifts = [k for k in views["obligations"] if k.startswith(f"department_lift/aviation/{old}/")]
    assert len(lifts) == 1


def test_the_monitor_drops_a_breach_report_overtaken_by_a_cancellation():
    """The sla timer reports a breach from its table while the court cancels the obligation;
    the report arrives after the cancellation and must not bring the obligation back."""
    from datetime import date

    from shixin.domain.obligations import Obligation, deadline_event
    from shixin.projections.steps import sla_step

    opened = datetime(2024, 3, 22, tzinfo=timezone(timedelta(hours=8)))
    term = Obligation(
        id="court_exit/E1/term",
        kind="court_exit",
        entry_id="E1",
        court="C110105",
        opened_at=opened,
        due_on=date(2024, 3, 26),
    )
    table: dict[str, object] = {}
    sla_step(table, deadline_event("DeadlineOpened", term, opened))
    assert term.id in table
    late = opened + timedelta(days=900)
    sla_step(table, deadline_event("DeadlineCancelled", term, opened))
    assert sla_step(table, deadline_event("DeadlineBreached", term, late)) is None
    assert table == {}
    # a breach of an obligation still held is recorded once
    sla_step(table, deadline_event("DeadlineOpened", term, opened))
    assert sla_step(table, deadline_event("DeadlineBreached", term, late)) is not None
    assert table[term.id]["breach_reported"] is True  # type: ignore[index]
