"""Ordering and backpressure: an entry's events are applied in order, also after the
repartition to subjects; a department that stops answering holds up neither the court role nor
the other departments, and catches up when it comes back."""

from __future__ import annotations

import json
from typing import Any

from shixin.audit.replay import Replay
from shixin.domain.events import ANY_EVENT_ADAPTER
from shixin.domain.subjects import EntryFacet
from shixin.projections import dumps
from shixin.runtime.admin import ensure_topics
from shixin.runtime.catalogs import get_policy
from shixin.runtime.reader import read_topic
from shixin.streams.idle import wait_idle
from shixin.streams.pipeline import hosted, live_views
from shixin.streams.publish import publish_events
from shixin.streams.subject_status import decode_status
from shixin.streams.topics import facets_topic_name
from shixin.synthetic import generate_history
from tests.builders import corrected, listed, person_id, shielded
from tests.conftest import isolated_settings, settings_env
from tests.integration.helpers import until
from tests.integration.processes import Worker, group_inputs, lag, live_tables, worker_env


def _busy_subject() -> list[dict[str, Any]]:
    """One person in three cases, each corrected again and again within seconds."""
    p = person_id(5101)
    events: list[dict[str, Any]] = []
    for n, entry in enumerate(("O1", "O2", "O3")):
        events.append(listed(entry, p, at=f"2024-03-0{n + 1}T10:00:00+08:00"))
    for i in range(12):
        for entry in ("O1", "O2", "O3"):
            events.append(
                corrected(entry, {"obligation": f"pay {i}"}, f"2024-04-01T10:{i:02d}:00+08:00")
            )
    events.append(shielded("O2", "2024-05-01T10:00:00+08:00"))
    return events


async def test_an_entrys_events_stay_in_order_through_the_repartition(bootstrap, catalog):
    settings = isolated_settings(partitions=4, batch_max=7)  # small batches: many boundaries
    history = _busy_subject() + list(generate_history(120, seed=41))
    events = [ANY_EVENT_ADAPTER.validate_python(e) for e in history]
    async with hosted("court,department:aviation", settings, bootstrap, catalog) as roles:
        await publish_events(bootstrap, settings, events)
        await wait_idle(bootstrap, roles, settings, timeout=120)
        live = await live_views(bootstrap, roles, settings, None)
    # an event applied out of order would be a dead letter ("earlier than the entry's last")
    assert live["dead_letters"] == []
    replay = Replay(settings, catalog, get_policy(settings.deadline_policy))
    replay.feed_lines(json.dumps(e) for e in history)
    assert live["entries"] == replay.views()["entries"]
    assert live["entries"]["O2"]["state"] == "shielded"
    # across the repartition: per subject and entry the facets' versions only grow, and so do
    # the versions of each subject's status
    facet_versions: dict[tuple[str, str], list[int]] = {}
    async for record in read_topic(bootstrap, facets_topic_name(settings)):
        facet = EntryFacet.model_validate_json(record.value)
        facet_versions.setdefault((facet.subject_id, facet.entry.entry_id), []).append(
            facet.entry.version
        )
    status_versions: dict[str, list[int]] = {}
    async for record in read_topic(bootstrap, settings.topic_subject_status):
        status = decode_status(record.value)
        status_versions.setdefault(status.subject_id, []).append(status.version)
    for key, versions in facet_versions.items():
        assert versions == sorted(versions), key
    for subject_id, versions in status_versions.items():
        assert versions == sorted(set(versions)), subject_id
    busy = person_id(5101)
    assert len(status_versions[busy]) >= 37  # every change of the busy subject went out
    assert facet_versions[(busy, "O1")][-1] == 13


async def test_a_hung_department_holds_up_nobody_else(bootstrap, catalog, tmp_path):
    settings = isolated_settings(partitions=4)
    await ensure_topics(bootstrap, settings)
    env = worker_env(settings_env(settings, bootstrap))
    court = Worker("court", env, tmp_path)
    fast = Worker("department:aviation", env, tmp_path)
    hung = Worker("department:rail", env, tmp_path)
    for worker in (court, fast, hung):
        worker.start()
    history = list(generate_history(300, seed=43))
    events = [ANY_EVENT_ADAPTER.validate_python(e) for e in history]
    others = group_inputs(settings, ["aviation"], sla=False)
    rail = group_inputs(settings, ["rail"], court=False, sla=False)
    try:
        await publish_events(bootstrap, settings, events[:50])
        await until(lambda: _caught_up(bootstrap, settings, {**others, **rail}), 90, every=1.0)
        hung.pause()  # rail's system stops answering
        await publish_events(bootstrap, settings, events[50:])
        # the court and aviation take in everything while rail stands still
        await until(lambda: _caught_up(bootstrap, settings, others), 120, every=1.0)
        behind, _ = await lag(bootstrap, settings, rail)
        assert sum(behind.values()) > 100, behind
        replay = Replay(settings, catalog, get_policy(settings.deadline_policy))
        replay.feed_lines(json.dumps(e) for e in history)
        expected = replay.views()
        live = await _views(bootstrap, settings)
        assert live["entries"] == expected["entries"]
        assert live["sanctions"]["aviation"] == expected["sanctions"]["aviation"]
        assert live["sanctions"]["rail"] != expected["sanctions"]["rail"]
        hung.resume()  # and when it comes back it catches up
        await until(lambda: _caught_up(bootstrap, settings, rail), 120, every=1.0)
        live = await _views(bootstrap, settings)
        assert live["sanctions"]["rail"] == expected["sanctions"]["rail"]
    finally:
        hung.resume()
        for worker in (court, fast, hung):
            worker.stop()


async def _views(bootstrap: str, settings: Any) -> dict[str, Any]:
    tables = await live_tables(bootstrap, settings, ["aviation", "rail"])
    return dumps.all_views(tables["entries"], tables["subjects"], tables["sanctions"], [], None)


async def _caught_up(bootstrap: str, settings: Any, groups: dict[str, list[str]]) -> bool:
    behind, _ = await lag(bootstrap, settings, groups)
    return not any(behind.values())
