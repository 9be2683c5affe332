"""The sla role's due index (`streams/due_index.py`): through records written, closed, reported
and deleted, and rebuilt from a table, the obligations it gives as due before a day are those a
look at every record gives: open, no breach reported, due before that day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shixin.streams.due_index import DueIndex, open_obligation_due, retention_due

START = date(2024, 3, 1)

records = st.lists(
    st.tuples(
        st.integers(0, 9),  # which obligation
        st.one_of(
            st.none(),  # deleted
            st.tuples(
                st.one_of(st.none(), st.integers(0, 9)),  # due, days after START
                st.booleans(),  # closed
                st.booleans(),  # breach reported
            ),
        ),
    ),
    max_size=40,
)


def _record(n: int, due: int | None, closed: bool, reported: bool) -> dict[str, Any]:
    return {
        "breach_reported": reported,
        "obligation": {
            "id": f"O{n}",
            "due_on": None if due is None else (START + timedelta(days=due)).isoformat(),
            "closed_at": "2024-03-02T10:00:00+08:00" if closed else None,
        },
    }


@settings(max_examples=300, deadline=None)
@given(records, st.integers(-1, 11))
def test_the_index_gives_what_looking_at_every_record_gives(steps: list[Any], day: int) -> None:
    index, table = DueIndex(open_obligation_due), {}
    for n, change in steps:
        key = f"O{n}"
        record = None if change is None else _record(n, *change)
        if record is None:
            table.pop(key, None)
        else:
            table[key] = record
        index.note(key, record)
    today = START + timedelta(days=day)
    expected = sorted(
        (r["obligation"]["due_on"], k)
        for k, r in table.items()
        if not r["breach_reported"]
        and r["obligation"]["closed_at"] is None
        and r["obligation"]["due_on"] is not None
        and r["obligation"]["due_on"] < today.isoformat()
    )
    assert index.passed(today) == [k for _, k in expected]
    rebuilt = DueIndex(open_obligation_due)
    rebuilt.rebuild(table.items())
    assert rebuilt.passed(today) == index.passed(today) and len(rebuilt) == len(index)


def test_a_department_row_is_due_when_its_retention_ends() -> None:
    index = DueIndex(retention_due)
    index.note("S1", {"retained": ["consumption.flights"], "retained_until": "2024-12-31"})
    index.note("S2", {"retained": [], "retained_until": "2024-01-31"})  # nothing retained now
    index.note("S3", {"retained": ["consumption.flights"], "retained_until": "2025-06-30"})
    assert index.passed(date(2024, 12, 31)) == []  # ends at the end of its date
    assert index.passed(date(2025, 1, 1)) == ["S1"]
    index.note("S1", {"retained": [], "retained_until": "2024-12-31"})  # lifted
    assert index.passed(date(2025, 7, 1)) == ["S3"] and len(index) == 1
