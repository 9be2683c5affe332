"""The api's replicated rows (`projections/rows.py`): kept as their JSON bytes, and the counts and
filters every request would otherwise parse all rows for (entries listed, subjects
sanctionable, a department's rows per state, subjects sanctioned anywhere) always what a count
over the parsed rows gives, through changes, moves between states and tombstones, and a
department's rows in key order for its pages."""

from __future__ import annotations

import gc
import json
import random
from collections import Counter
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from shixin.projections import rows as rows_module
from shixin.projections.rows import DICTIONARY_ROWS, Rows
from shixin.runtime.catalogs import get_catalog
from shixin.web.readmodels import ReadModels
from shixin.web.replicas import ENFORCED_STATES, ReplicaState

CATALOG = get_catalog()
DEPARTMENTS = [d.id for d in CATALOG.departments[:4]]
STATES = ["applied", "lifted", "retained", "pending_apply", "pending_lift"]
SUBJECTS = [f"S{n}" for n in range(6)]

# (department index, subject index, state index or None for a tombstone)
changes = st.lists(
    st.tuples(
        st.integers(0, len(DEPARTMENTS) - 1),
        st.integers(0, len(SUBJECTS) - 1),
        st.one_of(st.none(), st.integers(0, len(STATES) - 1)),
    ),
    max_size=60,
)


def _sanction(subject_id: str, state: str) -> dict[str, Any]:
    return {"subject_id": subject_id, "state": state, "required": [], "enforced": []}


def _recount(state: ReplicaState) -> tuple[dict[str, dict[str, int]], int]:
    by_department = {
        dept: dict(
            Counter(json.loads(table.unpack(raw))["state"] for _, raw in table.stored_items())
        )
        for dept, table in sorted(state.sanctions.items())
        if table
    }
    sanctioned = {
        subject_id
        for table in state.sanctions.values()
        for subject_id in table
        if table[subject_id]["state"] in ENFORCED_STATES
    }
    return by_department, len(sanctioned)


@settings(max_examples=200, deadline=None)
@given(changes)
def test_department_counts_and_pages_follow_every_change(steps: list[Any]) -> None:
    with mock.patch.object(rows_module, "DICTIONARY_ROWS", 16):  # a dictionary sooner
        _department_counts_and_pages_follow_every_change(steps)


def _department_counts_and_pages_follow_every_change(steps: list[Any]) -> None:
    state = ReplicaState(CATALOG)
    read = ReadModels(state, CATALOG)
    for d, dept in enumerate(DEPARTMENTS[:2]):  # enough rows for these two to pack theirs
        for n in range(rows_module.DICTIONARY_ROWS + d):
            state.sanctions[dept][f"X{n}"] = _sanction(f"X{n}", STATES[n % len(STATES)])
    for step, (d, s, st_) in enumerate(steps):
        rows = state.sanctions[DEPARTMENTS[d]]
        subject_id = SUBJECTS[s]
        if st_ is None:
            rows.put_raw(subject_id, None)  # a tombstone, also of a key never seen
        elif step % 2:
            rows.put_raw(subject_id, json.dumps(_sanction(subject_id, STATES[st_])).encode())
        else:
            rows[subject_id] = _sanction(subject_id, STATES[st_])  # as the tests' stores do
        by_department, sanctioned = _recount(state)
        assert read.sanctions_by_department() == by_department
        assert read.sanctioned_subjects() == sanctioned
        for dept in DEPARTMENTS:
            table = state.sanctions[dept]
            assert list(table.ordered()) == sorted(table)  # a department's pages: in key order
            for name in STATES:
                keys = [k for k in sorted(table) if table[k]["state"] == name]
                assert list(table.labelled(name)) == keys


def test_entries_and_subjects_counted_as_they_change() -> None:
    state = ReplicaState(CATALOG)
    read = ReadModels(state, CATALOG)
    rng = random.Random(7)
    entries: dict[str, str] = {}
    subjects: dict[str, bool] = {}
    for _ in range(300):
        key = f"E{rng.randrange(8)}"
        if rng.random() < 0.2:
            state.put_entry_record(key, None)
            entries.pop(key, None)
        else:
            entry_state = rng.choice(["listed", "revoked", "shielded"])
            state.put_entry_record(key, json.dumps({"state": entry_state}).encode())
            entries[key] = entry_state
        subject_id = f"S{rng.randrange(8)}"
        if rng.random() < 0.2:
            state.subjects.put_raw(subject_id, None)
            subjects.pop(subject_id, None)
        else:
            listed, named = rng.random() < 0.5, rng.random() < 0.7
            row = {"entries": {"E1": {"listed": listed, "named": named}, "E2": {"listed": False}}}
            state.subjects.put_raw(subject_id, json.dumps(row).encode())
            subjects[subject_id] = listed and named
        assert read.listed_entries() == sum(1 for s in entries.values() if s == "listed")
        assert read.sanctionable_subjects() == sum(subjects.values())


def test_rows_are_kept_packed_and_read_as_fresh_dicts() -> None:
    state = ReplicaState(CATALOG)
    rows = state.sanctions[DEPARTMENTS[0]]
    rows["S1"] = _sanction("S1", "applied")
    kept = rows.stored("S1")
    assert isinstance(kept, bytes) and not gc.is_tracked(kept)  # nothing for the collector
    first = rows["S1"]
    first["state"] = "lifted"  # a reader's edit changes nothing held
    assert rows["S1"]["state"] == "applied" and rows.stored("S1") is kept
    # the table's first rows make its dictionary; from then on every row is packed, those too
    for n in range(DICTIONARY_ROWS + 10):
        rows[f"S{n}"] = _sanction(f"S{n}", STATES[n % len(STATES)])
    rows.put_raw("S2", json.dumps(_sanction("S2", "retained")).encode())
    for n in range(DICTIONARY_ROWS + 10):
        row = json.loads(rows.json(f"S{n}") or b"")
        assert row == rows[f"S{n}"] == _sanction(f"S{n}", row["state"])
        assert len(rows.stored(f"S{n}") or b"") < len(rows.json(f"S{n}") or b"") / 2
    assert rows["S2"]["state"] == "retained"
    del rows["S1"]
    assert "S1" not in rows and "S1" not in rows.labelled("applied")
    assert "S1" not in rows.ordered()


def test_a_table_of_rows_with_nothing_to_train_on_is_packed_without_a_dictionary() -> None:
    rows = Rows()
    for n in range(DICTIONARY_ROWS + 3):
        rows.put_raw(f"K{n}", b"")  # zstd trains no dictionary on empty rows
    rows.put_raw("K1", b"{}")
    assert rows.json("K0") == b"" and rows.json("K1") == b"{}"
    assert (rows.stored("K1") or b"")[:1] == b"\x00"  # packed all the same
