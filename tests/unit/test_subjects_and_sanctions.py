"""The subject fold and the department fold, and their agreement whatever the interleaving."""

from __future__ import annotations

import itertools
from datetime import date

from shixin.audit.replay import Replay
from shixin.domain.entries import apply_event
from shixin.domain.events import ANY_EVENT_ADAPTER, COURT_EVENT_ADAPTER
from shixin.domain.subjects import apply_facet, entry_facets
from shixin.runtime.catalogs import get_policy
from shixin.runtime.settings import Settings
from tests.builders import corrected, entity_id, listed, person_id, shielded

FLIGHTS = "consumption.flights"

BRIEF = get_policy("brief")


def test_stale_facets_are_ignored():
    p = person_id(21)
    first = apply_event(None, COURT_EVENT_ADAPTER.validate_python(listed("E", p)), "t/0@0", BRIEF)
    second = apply_event(
        first,
        COURT_EVENT_ADAPTER.validate_python(shielded("E", "2024-04-01T10:00:00+08:00")),
        "t/0@1",
        BRIEF,
    )
    state = apply_facet(None, entry_facets(first, "a")[0])
    state = apply_facet(state, entry_facets(second, "b")[0])
    assert state is not None and not state.sanctionable
    assert apply_facet(state, entry_facets(first, "a")[0]) is None  # older: ignored
    assert apply_facet(state, entry_facets(second, "b")[0]) is None  # same: nothing new


def replay(events):
    from shixin.runtime.catalogs import get_policy

    r = Replay(Settings(), _catalog(), get_policy("brief"))
    for raw in events:
        r.event(ANY_EVENT_ADAPTER.validate_python(raw))
    return r.views()


def _catalog():
    from shixin.runtime.catalogs import get_catalog

    return get_catalog()


def test_measures_follow_kind_and_role():
    company, boss = entity_id(31), person_id(31, date(1970, 1, 2))
    views = replay(
        [
            listed(
                "E",
                company,
                kind="entity",
                related=[{"role": "legal_representative", "id": boss, "name": "甲"}],
            )
        ]
    )
    sanctions = views["sanctions"]
    assert sanctions["aviation"][boss]["measures"] == [FLIGHTS]
    assert boss not in sanctions["immigration"]  # exit restriction: debtor persons only
    assert company not in sanctions["immigration"]
    assert "post.soe_executive" not in sanctions.get("sasac", {}).get(company, {}).get(
        "measures", []
    )


def test_lifting_one_of_two_entries_keeps_the_sanction_and_the_order_does_not_matter():
    p = person_id(41)
    events = [
        listed("E1", p),
        listed("E2", p, at="2024-03-12T10:00:00+08:00"),
        shielded("E1", "2024-04-01T10:00:00+08:00"),
        shielded("E2", "2024-04-02T10:00:00+08:00"),
    ]
    final = replay(events)["sanctions"]["aviation"][p]
    assert final["state"] == "lifted" and final["measures"] == [FLIGHTS]
    assert replay(events[:3])["sanctions"]["aviation"][p]["state"] == "applied"
    # the live pipeline interleaves entries of different partitions in any order
    outcomes = set()
    for order in itertools.permutations([0, 2]):  # E1's events in any position relative to E2's
        e1 = [events[0], events[2]]
        e2 = [events[1], events[3]]
        merged = e1 + e2 if order == (0, 2) else e2 + e1
        outcomes.add(repr(replay(merged)["sanctions"]))
    assert len(outcomes) == 1


def test_a_correction_moves_sanctions_between_subjects():
    old, new = person_id(51), person_id(52)
    views = replay(
        [
            listed("E", old),
            corrected(
                "E",
                {"subject": {"kind": "person", "id": new, "name": "张三"}},
                "2024-03-12T10:00:00+08:00",
            ),
        ]
    )
    assert views["sanctions"]["aviation"][old]["state"] == "lifted"
    assert views["sanctions"]["aviation"][new]["state"] == "applied"
    assert views["subjects"][old]["sanctionable"] is False
    assert views["subjects"][new]["active_entry_ids"] == ["E"]


def test_manual_department_waits_for_a_person():
    p = person_id(61)
    views = replay([listed("E", p)])
    row = views["sanctions"]["education"][p]
    assert row["state"] == "pending_apply" and row["enforced"] == []
    confirm = {
        "event_id": "7d3b0c1e-0000-4000-8000-000000000001",
        "type": "SanctionsApplied",
        "department": "education",
        "subject_id": p,
        "measures": [],
        "entry_ids": ["E"],
        "at": "2024-03-13T09:00:00+08:00",
        "origin": "person",
    }
    views = replay([listed("E", p), confirm])
    assert views["sanctions"]["education"][p]["state"] == "applied"
    lifted = replay([listed("E", p), confirm, shielded("E", "2024-04-01T10:00:00+08:00")])
    assert lifted["sanctions"]["education"][p]["state"] == "pending_lift"
