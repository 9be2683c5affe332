"""The replay's stores (`projections.steps.ModelStore`) with only some rows kept as models:
every read, write, deletion and listing is what a store of models gives, and a replay with a
few hot rows per table ends in the very views of one that keeps them all."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shixin.audit.replay import Replay
from shixin.domain.obligations import Obligation
from shixin.projections.steps import ModelStore
from shixin.runtime.catalogs import get_catalog, get_policy
from shixin.runtime.settings import Settings
from shixin.synthetic import generate_history

operations = st.lists(
    st.tuples(st.sampled_from(["put", "read", "json", "delete"]), st.integers(0, 7)),
    max_size=60,
)


def _model(n: int, version: int) -> Obligation:
    return Obligation(
        id=f"O{n}",
        kind="court_exit",
        court=f"C{version}",
        opened_at=datetime(2024, 3, 1, tzinfo=UTC),
        due_on=None,
    )


@settings(max_examples=300, deadline=None)
@given(operations, st.integers(1, 4))
def test_a_store_with_few_hot_rows_answers_as_one_with_all(steps: list[Any], hot: int) -> None:
    store, every = ModelStore(Obligation, hot), ModelStore()
    for version, (operation, n) in enumerate(steps):
        key = f"O{n}"
        if operation == "put":
            store.put_model(key, _model(n, version))
            every.put_model(key, _model(n, version))
        elif operation == "read":
            assert store.model(key) == every.model(key)
        elif operation == "json":
            assert (key in store) == (key in every)
            if key in every:
                assert store[key] == every[key]
        elif key in every:
            del store[key]
            del every[key]
        assert len(store) == len(every) and sorted(store) == sorted(every)
    assert dict(store.models()) == dict(every.models())
    assert len([k for k in store if store.model(k) is not None]) == len(every)


def test_a_replay_with_few_hot_rows_ends_in_the_same_views() -> None:
    history = [json.dumps(e) for e in generate_history(120, seed=11)]
    views = []
    for hot in (20_000, 7):
        replay = Replay(Settings(replay_hot_rows=hot), get_catalog(), get_policy("brief"))
        replay.feed_lines(history)
        views.append(replay.views())
    assert views[0] == views[1] and views[0]["entries"]
