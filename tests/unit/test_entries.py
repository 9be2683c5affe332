"""The entry lifecycle fold."""

from __future__ import annotations

import pytest

from shixin.domain.entries import DuplicateEvent, LifecycleError, apply_event
from shixin.domain.events import COURT_EVENT_ADAPTER
from shixin.runtime.catalogs import get_policy
from tests.builders import (
    corrected,
    entity_id,
    listed,
    performed,
    person_id,
    revoked,
    shielded,
    warned,
)

BRIEF = get_policy("brief")


def ev(raw):
    return COURT_EVENT_ADAPTER.validate_python(raw)


def fold(*raws):
    entry = None
    for n, raw in enumerate(raws):
        entry = apply_event(entry, ev(raw), f"t/0@{n}", BRIEF)
    return entry


def test_warned_listed_corrected_performed_shielded():
    p = person_id(1)
    entry = fold(
        warned("E"),
        listed("E", p),
        corrected("E", {"unperformed_part": "5000元"}, "2024-03-12T10:00:00+08:00"),
        performed("E", "2024-03-20T10:00:00+08:00"),
        shielded("E", "2024-03-21T10:00:00+08:00"),
    )
    assert entry.state == "shielded" and entry.version == 5
    assert entry.unperformed_part == "5000元"
    assert entry.performed_ground == "performed" and entry.exit_ground == "performed"
    assert entry.warned_at is not None and entry.listed_at is not None and entry.left_at is not None


@pytest.mark.parametrize(
    ("history", "reason"),
    [
        (
            [shielded("E", "2024-04-01T10:00:00+08:00")],
            "ListingShielded for entry E, which was never listed",
        ),
        (
            [listed("E", person_id(2)), listed("E", person_id(2), at="2024-03-12T10:00:00+08:00")],
            "DebtorListed is not allowed for entry E in state listed",
        ),
        (
            [
                listed("E", person_id(2)),
                revoked("E", "2024-03-12T10:00:00+08:00"),
                shielded("E", "2024-03-13T10:00:00+08:00"),
            ],
            "ListingShielded is not allowed for entry E in state revoked",
        ),
        (
            [warned("E"), warned("E", "2024-03-02T10:00:00+08:00")],
            "RiskWarningIssued is not allowed for entry E in state warned",
        ),
        (
            [listed("E", person_id(2)), shielded("E", "2024-03-01T10:00:00+08:00")],
            "earlier than the entry's last event",
        ),
    ],
)
def test_impossible_steps_are_refused_with_a_reason(history, reason):
    with pytest.raises(LifecycleError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        fold(*history)


def test_redelivery_is_harmless_and_a_duplicate_is_refused():
    raw = listed("E", person_id(3))
    entry = apply_event(None, ev(raw), "t/0@0", BRIEF)
    assert apply_event(entry, ev(raw), "t/0@0", BRIEF) is entry
    with pytest.raises(DuplicateEvent, match="already applied to entry E from t/0@0"):
        apply_event(entry, ev(raw), "t/0@9", BRIEF)


def test_namings_cover_debtor_and_related_persons_with_ids():
    company, boss, ctrl = entity_id(5), person_id(5), person_id(6)
    entry = fold(
        listed(
            "E",
            company,
            kind="entity",
            related=[
                {"role": "legal_representative", "id": boss, "name": "甲"},
                {"role": "actual_controller", "id": boss, "name": "甲"},
                {"role": "principal", "id": ctrl, "name": "乙"},
                {"role": "responsible_person", "id": None, "name": "丙"},
            ],
        )
    )
    assert entry.namings() == {
        company: ("entity", ("debtor",)),
        boss: ("person", ("actual_controller", "legal_representative")),
        ctrl: ("person", ("principal",)),
    }


def test_a_correction_that_moves_the_entry_remembers_the_old_subject():
    old, new = person_id(7), person_id(8)
    entry = fold(
        listed("E", old),
        corrected(
            "E",
            {"subject": {"kind": "person", "id": new, "name": "张三"}},
            "2024-03-12T10:00:00+08:00",
        ),
    )
    assert entry.subject.id == new
    assert set(entry.named_ever) == {old, new}
