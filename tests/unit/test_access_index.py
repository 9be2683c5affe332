"""The access-log listings answer what filtering and sorting every kept record answers: the
newest first (ties: the first to come first), of everyone, by one reader or about one subject,
with the first records to come forgotten past the capacity."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shixin.web.access_index import AccessIndex, logged_at

TIMES = [
    "2026-11-27T10:00:00+08:00",
    "2026-11-27T10:00:00.500000+08:00",
    "2026-11-27T02:00:01+00:00",  # a second after the first, in another offset
    "2026-11-28T09:00:00+08:00",
    "not a time",
    "2026-11-27T10:00:00",  # no offset: as unreadable
]
WHO = ["aviation", "rail", "auditor-1"]
SUBJECTS = ["S1", "S2", "S3", "S4"]

records = st.lists(
    st.fixed_dictionaries(
        {
            "at": st.sampled_from(TIMES),
            "who": st.sampled_from(WHO),
            "subjects": st.lists(st.sampled_from(SUBJECTS), max_size=3),
        }
    ),
    max_size=60,
)


def _oracle(
    added: list[dict[str, Any]], capacity: int, subject: str | None, who: str | None, limit: int
) -> list[dict[str, Any]]:
    kept = added[-capacity:]
    found = [
        r
        for r in kept
        if (subject is None or subject in r["subjects"]) and (who is None or r["who"] == who)
    ]
    return sorted(found, key=logged_at, reverse=True)[:limit]


@given(
    records,
    st.integers(min_value=1, max_value=40),
    st.lists(
        st.tuples(
            st.none() | st.sampled_from(SUBJECTS),
            st.none() | st.sampled_from(WHO),
            st.integers(min_value=1, max_value=10),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_pages_equal_filtering_and_sorting_every_kept_record(added, capacity, questions):
    index = AccessIndex(capacity)
    half = len(added) // 2
    index.extend(added[:half])
    index.extend(added[half:])
    assert len(index) == min(len(added), capacity)
    for subject, who, limit in questions:
        got = index.newest(subject, who, limit)
        want = _oracle(added, capacity, subject, who, limit)
        assert [id(r) for r in got] == [id(r) for r in want], (subject, who, limit)


def test_forgotten_readers_and_subjects_leave_no_listing():
    index = AccessIndex(2)
    index.add({"at": TIMES[0], "who": "aviation", "subjects": ["S1"]})
    index.add({"at": TIMES[1], "who": "rail", "subjects": ["S2"]})
    index.add({"at": TIMES[3], "who": "rail", "subjects": ["S2", "S2"]})
    assert index.newest("S1", None, 10) == [] and index.newest(None, "aviation", 10) == []
    assert [r["at"] for r in index.newest(None, "rail", 10)] == [TIMES[3], TIMES[1]]
    assert set(index._by_who) == {"rail"} and set(index._by_subject) == {"S2"}
