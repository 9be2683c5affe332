"""The shortcuts taken for speed give exactly what the plain way gives."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shixin.audit.replay import Replay
from shixin.domain.build import build, evolve
from shixin.domain.entries import Entry
from shixin.domain.events import ANY_EVENT_ADAPTER, SanctionsApplied, _check_key, _check_text
from shixin.domain.obligations import Obligation
from shixin.projections import dumps
from shixin.projections.dumps import canonical_json
from shixin.projections.steps import department_step, intake_step, subject_step
from shixin.runtime.catalogs import get_catalog, get_policy
from shixin.runtime.settings import Settings
from shixin.synthetic import generate_history
from tests.builders import corrected, listed, person_id

CATALOG = get_catalog()
POLICY = get_policy("brief")
T0 = datetime(2024, 3, 11, 10, 0, tzinfo=UTC)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_canonical_json_is_the_standard_encoders_text(value):
    expected = json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    assert canonical_json(value) == expected


def test_canonical_json_leaves_unusual_keys_to_the_standard_encoder():
    for value in ({1: "a", 2: "b"}, {"a": {None: 1}}, [float("nan")], {"x": 1.5}):
        expected = json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
        assert canonical_json(value) == expected


def test_built_models_equal_validated_ones():
    fields = {
        "event_id": uuid.uuid4(),
        "department": "aviation",
        "subject_id": "110101199003074578",
        "measures": ("consumption.air",),
        "entry_ids": ("E1",),
        "at": T0,
    }
    built = build(SanctionsApplied, **fields)
    validated = SanctionsApplied(**fields)
    assert built == validated
    assert built.model_dump(mode="json") == validated.model_dump(mode="json")
    assert built.model_fields_set == SanctionsApplied.model_construct(**fields).model_fields_set
    assert built.origin == "agent" and built.type == "SanctionsApplied"


def test_build_refuses_unknown_and_missing_fields():
    with pytest.raises(TypeError, match="unknown fields"):
        build(Obligation, id="x", kind="court_exit", opened_at=T0, due_on=None, colour="red")
    with pytest.raises(TypeError, match="missing"):
        build(Obligation, id="x", kind="court_exit", opened_at=T0)


def test_build_wants_fields_with_a_mutable_default_given():
    # Entry.applied defaults to {}: a default shared by every built entry would be a trap
    with pytest.raises(TypeError, match=r"missing \['applied', 'named_ever'\]"):
        build(
            Entry,
            entry_id="E1",
            state="warned",
            version=0,
            case_no="c",
            court=None,
            last_event_at=T0,
        )


def test_evolved_models_equal_copied_ones():
    obligation = Obligation(id="x", kind="court_exit", opened_at=T0, due_on=None)
    for changes in ({}, {"closed_at": T0}, {"closed_at": T0, "due_on": T0.date()}):
        evolved = evolve(obligation, **changes)
        copied = obligation.model_copy(update=changes)
        assert evolved == copied and evolved is not obligation
        assert evolved.model_dump(mode="json") == copied.model_dump(mode="json")
        assert evolved.model_fields_set == copied.model_fields_set
    assert obligation.closed_at is None  # the original is untouched
    with pytest.raises(TypeError, match="unknown fields"):
        evolve(obligation, colour="red")


@pytest.mark.parametrize(
    "text",
    ["张三", "O'Brien·李", "a\tb", "\u200b", "\ufffd", "\u2028", "é", "Ã©", "\x85", "\ufdd0", ""],
)
def test_text_check_shortcut_refuses_what_the_slow_check_refuses(text):
    import shixin.domain.events as events

    def slow(value: str) -> str | None:
        for position, ch in enumerate(value, start=1):
            if events._char_problem(ch) is not None:
                return f"{position}"
        return None

    try:
        _check_text(text)
        refused = False
    except ValueError:
        refused = True
    assert refused == (slow(text) is not None or events._mojibake(text) is not None)


@pytest.mark.parametrize("key", ["C1101-2022-ZX00174-01", "a.b:c_d", "a b", "é", "a\n", ""])
def test_key_check_shortcut(key):
    allowed = all(
        ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-" for ch in key
    )
    if allowed:
        assert _check_key(key) == key
    else:
        with pytest.raises(ValueError):
            _check_key(key)


def _fold_every_department(events):
    """What the live agents do: every department folds every status (no filter)."""
    entries: dict[str, object] = {}
    subjects: dict[str, object] = {}
    sanctions: dict[str, dict[str, object]] = {d.id: {} for d in CATALOG.departments}
    for n, raw in enumerate(events):
        event = ANY_EVENT_ADAPTER.validate_python(raw)
        facets, _ = intake_step(entries, event, f"court.events/0@{n}", POLICY)
        for facet in facets:
            status = subject_step(subjects, facet)
            if status is not None:
                for department in CATALOG.departments:
                    department_step(
                        sanctions[department.id], status, CATALOG, department, None, POLICY
                    )
    return sanctions


def test_replay_folds_a_department_that_no_longer_binds_but_holds_a_row():
    """A correction may name a debtor as a related person instead: a department bound by the
    debtor role only must still hear of it (and lift), as its live agent does."""
    debtor, other = person_id(11), person_id(12)
    history = [
        listed("E1", debtor, at="2024-03-11T10:00:00+08:00"),
        corrected(
            "E1",
            {
                "subject": {"kind": "person", "id": other, "name": "王五"},
                "related_persons": [{"role": "legal_representative", "id": debtor, "name": "张三"}],
            },
            at="2024-04-11T10:00:00+08:00",
        ),
    ]
    debtor_only = [
        d.id
        for d in CATALOG.departments
        if d.id not in CATALOG.department_ids_binding("person", ["legal_representative"])
    ]
    assert debtor_only
    replay = Replay(Settings(), CATALOG, POLICY)
    for raw in history:
        replay.event(ANY_EVENT_ADAPTER.validate_python(raw))
    live = _fold_every_department(history)
    views = replay.views()["sanctions"]
    assert views == dumps.sanctions_view(live)
    lifted = [d for d in debtor_only if views[d].get(debtor, {}).get("state") == "lifted"]
    assert lifted  # the automatic ones lifted


def test_views_from_model_stores_equal_views_from_json_rows():
    replay = Replay(Settings(), CATALOG, POLICY)
    replay.feed_lines(json.dumps(e, ensure_ascii=False) for e in generate_history(40, 3))
    plain = dumps.all_views(
        {k: replay.entries[k] for k in replay.entries},
        {k: replay.subjects[k] for k in replay.subjects},
        {d: {k: t[k] for k in t} for d, t in replay.sanctions.items()},
        replay.dead_letters,
        replay.latest,
    )
    assert replay.views() == plain


def test_a_models_changelog_record_reads_back_as_its_json_form():
    """The live agents' tables write each changed row's changelog record from its model
    (`StagedTable.put_model`) instead of Faust's JSON codec over the row's JSON form: what a
    restart or an api worker reads back must be the very same value."""
    from faust.serializers.codecs import loads as faust_loads
    from pydantic_core import from_json

    replay = Replay(Settings(), CATALOG, POLICY)
    replay.feed_lines(json.dumps(e, ensure_ascii=False) for e in generate_history(60, 5))
    stores = [replay.entries, replay.subjects, *replay.sanctions.values()]
    checked = 0
    for store in stores:
        for _, model in store.models():
            record = model.__pydantic_serializer__.to_json(model)
            row = model.model_dump(mode="json")
            assert faust_loads("json", record) == row
            assert from_json(record) == row
            checked += 1
    assert checked > 1000
