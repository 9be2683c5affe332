"""Properties of the pure core over random valid histories (hypothesis)."""

from __future__ import annotations

import random
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shixin.audit.replay import Replay
from shixin.domain.entries import Entry, apply_event
from shixin.domain.events import ANY_EVENT_ADAPTER, COURT_EVENT_ADAPTER
from shixin.domain.sanctions import required_measures
from shixin.domain.subjects import SubjectState
from shixin.runtime.catalogs import get_catalog, get_policy
from shixin.runtime.settings import Settings
from shixin.synthetic import generate_history

CATALOG = get_catalog()
POLICY = get_policy("brief")
PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def replay(events):
    r = Replay(Settings(), CATALOG, POLICY)
    for raw in events:
        r.event(ANY_EVENT_ADAPTER.validate_python(raw))
    return r


def interleave(events, rng: random.Random):
    """Another order the live pipeline could see: each entry's events stay in their order (one
    partition), different entries interleave at random (different partitions)."""
    by_entry = defaultdict(list)
    for e in events:
        by_entry[e["entry_id"]].append(e)
    queues = [list(reversed(q)) for q in by_entry.values()]
    out = []
    while queues:
        queue = rng.choice(queues)
        out.append(queue.pop())
        if not queue:
            queues.remove(queue)
    return out


@PROPERTY_SETTINGS
@given(debtors=st.integers(1, 25), seed=st.integers(0, 10_000), order=st.randoms())
def test_any_partition_interleaving_gives_the_same_projections(debtors, seed, order):
    history = list(generate_history(debtors, seed))
    in_order = replay(history)
    shuffled = replay(interleave(history, order))
    now = in_order.latest
    assert shuffled.views(now) == in_order.views(now)


@PROPERTY_SETTINGS
@given(debtors=st.integers(1, 25), seed=st.integers(0, 10_000))
def test_sanctioned_exactly_when_a_listed_entry_requires_it(debtors, seed):
    r = replay(generate_history(debtors, seed))
    for subject_id, raw in r.subjects.items():
        subject = SubjectState.model_validate(raw)
        active = [e for e in subject.entries.values() if e.active]
        for department in CATALOG.departments:
            required = required_measures(CATALOG, department.id, active, subject.kind)
            row = r.sanctions[department.id].get(subject_id)
            if required:
                assert row is not None and set(row["required"]) == set(required)
                if department.execution == "automatic":
                    assert row["state"] == "applied"
                    assert set(row["enforced"]) == set(required)
            elif row is not None:
                assert row["required"] == []
                assert row["state"] in ("lifted", "pending_lift", "retained")


@PROPERTY_SETTINGS
@given(debtors=st.integers(1, 10), seed=st.integers(0, 10_000), pick=st.randoms())
def test_applying_an_event_twice_equals_applying_it_once(debtors, seed, pick):
    entries: dict[str, Entry] = {}
    for n, raw in enumerate(generate_history(debtors, seed)):
        event = COURT_EVENT_ADAPTER.validate_python(raw)
        position = f"court.events/0@{n}"
        once = apply_event(entries.get(event.entry_id), event, position, POLICY)
        if pick.random() < 0.3:  # a redelivery of the same message
            assert apply_event(once, event, position, POLICY) is once
        entries[event.entry_id] = once
    # and the whole history replayed twice over (every event redelivered) changes nothing
    history = list(generate_history(debtors, seed))
    r = Replay(Settings(), CATALOG, POLICY)
    for n, raw in enumerate(history):
        event = COURT_EVENT_ADAPTER.validate_python(raw)
        r.court_event(event, 0, n)
        r.court_event(event, 0, n)
    assert not r.dead_letters
    single = replay(history)
    assert {k: v["state"] for k, v in r.entries.items()} == {
        k: v["state"] for k, v in single.entries.items()
    }
    assert r.sanctions == single.sanctions
