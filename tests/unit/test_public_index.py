"""The public list's index (`web/public.py`): through entries listed, corrected, made
non-public, shielded and deleted, every search (the whole list, by name, by ID number, both)
and every page of it are what filtering and sorting all the entries gives, newest first."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shixin.web.public import PublicList, publishable

TODAY = date(2026, 11, 27)
NAMES = ["王五", "李四", " 王五 "]
IDS = ["91110000100000000X", "91110000100000001x", "91110000100000002X"]

changes = st.lists(
    st.tuples(
        st.integers(0, 9),  # which entry
        st.one_of(
            st.none(),  # a tombstone
            st.tuples(
                st.sampled_from(["listed", "shielded", "revoked"]),
                st.booleans(),  # public
                st.integers(0, 2),  # name
                st.integers(0, 2),  # id number
                st.sampled_from(["2024-03-01T10:00:00+08:00", "2024-03-02T10:00:00+08:00"]),
            ),
        ),
    ),
    max_size=40,
)


def _row(n: int, state: str, public: bool, name: int, id_: int, at: str) -> dict[str, Any]:
    return {
        "entry_id": f"E{n}",
        "case_no": "(2024)京0101执1号",
        "state": state,
        "public": public,
        "listed_at": at,
        "subject": {"kind": "entity", "id": IDS[id_], "name": NAMES[name]},
        "court": {"code": "C1", "name": "court"},
    }


@settings(max_examples=300, deadline=None)
@given(changes)
def test_every_search_and_page_is_what_a_full_sort_gives(steps: list[Any]) -> None:
    rows: dict[str, dict[str, Any]] = {}
    public = PublicList(rows.get)
    for n, change in steps:
        key = f"E{n}"
        if change is None:
            rows.pop(key, None)
            public.update(key, None)
        else:
            rows[key] = _row(n, *change)
            public.update(key, rows[key])
    shown = [r for r in rows.values() if publishable(r)]
    newest = sorted(shown, key=lambda r: (r["listed_at"], r["entry_id"]), reverse=True)
    assert len(public) == len(shown)
    for name in (None, "王五", "李四 "):
        for id_number in (None, IDS[1].lower(), IDS[0]):
            expected = [
                r["entry_id"]
                for r in newest
                if (name is None or r["subject"]["name"].strip() == name.strip())
                and (id_number is None or r["subject"]["id"].upper() == id_number.upper())
            ]
            for size in (1, 3):
                for page in range(1, len(expected) // size + 3):
                    found = public.search(TODAY, name, id_number, page=page, page_size=size)
                    assert found.total == len(expected)
                    start = (page - 1) * size
                    assert [e.entry_id for e in found.items] == expected[start : start + size]
