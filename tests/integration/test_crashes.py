"""Crashes: worker processes killed with SIGKILL at random moments, again and again, while a
history of more than 20,000 events flows; restarted each time. At the end the tables equal the
offline replay of the same history: no entry, sanction or deadline lost, none applied twice.
And two court workers handing partitions over while events flow.

The court workers log every batch, seek, rebalance and commit (`shixin.offsets`, debug level); a
failing run leaves the workers' logs in /tmp/shixin-crash-<prefix>/ and, for every key whose
table differs from the replay, where its events and table writes went (partition, offset) in
/tmp/shixin-crash-<prefix>.json."""

from __future__ import annotations

import asyncio
import json
import os
import random
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from shixin.audit.replay import Replay
from shixin.domain.events import ANY_EVENT_ADAPTER, SanctionsApplied, SanctionsLifted
from shixin.domain.obligations import Obligation
from shixin.projections import dumps
from shixin.projections.queries import changelog_topic
from shixin.runtime.admin import ensure_topics
from shixin.runtime.catalogs import get_policy
from shixin.runtime.logging import get_logger
from shixin.runtime.reader import read_topic
from shixin.schemas.model_codec import decode_event
from shixin.streams.deadline_events import decode_deadline
from shixin.streams.pipeline import read_dead_letters
from shixin.streams.publish import publish_events
from shixin.streams.subject_status import decode_status
from shixin.streams.topics import facets_topic_name
from shixin.synthetic import generate_history
from tests.conftest import isolated_settings, settings_env
from tests.integration.processes import Worker, live_tables, wait_groups_idle, worker_env

log = get_logger(__name__)

DEPARTMENTS = ["aviation", "rail", "education", "hotels"]
# about 21,000 events; smaller by the environment, to look into a failure quickly
DEBTORS = int(os.environ.get("SHIXIN_TEST_CRASH_DEBTORS", "5600"))
KILLS = int(os.environ.get("SHIXIN_TEST_CRASH_KILLS", "12"))


def _judged(obligations: list[Obligation], now: Any) -> dict[str, Any]:
    return {
        o.id: (o.kind, o.opened_at, o.due_on, o.closed_at, o.judged(now))
        for o in obligations
        if o.department is None or o.department in DEPARTMENTS
    }


async def _flow(
    bootstrap: str,
    settings: Any,
    history: list[dict[str, Any]],
    workers: list[Worker],
    disrupt: Any,
) -> dict[str, Any]:
    """Start the workers, publish the history in chunks while `disrupt()` runs, wait until every
    group is idle, and read back the tables, dead letters and feedback."""
    events = [ANY_EVENT_ADAPTER.validate_python(e) for e in history]
    for worker in workers:
        worker.start()
    try:
        disrupting = asyncio.create_task(disrupt())
        for start in range(0, len(events), 1_000):
            await publish_events(bootstrap, settings, events[start : start + 1_000])
            await asyncio.sleep(0.5)
        await disrupting
        assert all(w.alive() for w in workers), [w.log.read_text()[-2000:] for w in workers]
        try:
            await wait_groups_idle(bootstrap, settings, DEPARTMENTS, timeout=240)
        except TimeoutError as exc:  # short, first: CI shows the head of a failure
            behind = {w.log.name: _behind(w.readiness()) for w in workers}
            raise AssertionError(f"{exc}; behind {behind}; logs in {workers[0].log}") from None
        _report_stalls(workers)
        # the input itself is as published: each entry's events in order, none twice
        last: dict[str, Any] = {}
        seen: set[str] = set()
        trail: dict[str, list[Any]] = {}  # entry id -> where its events and table writes went
        async for record in read_topic(bootstrap, settings.topic_court_events):
            event = decode_event(record.value)
            trail.setdefault(event.entry_id, []).append(
                ("event", record.partition, record.offset, event.type)
            )
            assert str(event.event_id) not in seen, "published twice"
            seen.add(str(event.event_id))
            assert event.occurred_at >= last.get(event.entry_id, event.occurred_at), event
            last[event.entry_id] = event.occurred_at
        assert len(seen) == len(events)
        tables = await live_tables(bootstrap, settings, DEPARTMENTS)
        async for record in read_topic(bootstrap, changelog_topic(settings, "court", "entries")):
            value = json.loads(record.value) if record.value is not None else {}
            trail.setdefault(json.loads(record.key), []).append(
                ("write", record.partition, record.offset, record.timestamp, value.get("state"))
            )
        async for record in read_topic(bootstrap, facets_topic_name(settings)):
            facet = json.loads(record.value)
            trail.setdefault(facet["subject_id"], []).append(
                ("facet", record.partition, record.offset, record.timestamp, facet["entry"])
            )
        async for record in read_topic(bootstrap, changelog_topic(settings, "court", "subjects")):
            value = json.loads(record.value) if record.value is not None else {}
            trail.setdefault(json.loads(record.key), []).append(
                ("write", record.partition, record.offset, record.timestamp, value)
            )
        async for record in read_topic(bootstrap, settings.topic_sla_events):
            change = decode_deadline(record.value)
            closed = change.obligation.closed_at
            trail.setdefault(change.obligation.id, []).append(
                ("deadline", record.partition, record.offset, record.timestamp, change.type, closed)
            )
        async for record in read_topic(bootstrap, changelog_topic(settings, "sla", "obligations")):
            trail.setdefault(json.loads(record.key), []).append(
                ("write", record.partition, record.offset, record.timestamp, record.value is None)
            )
        async for record in read_topic(bootstrap, settings.topic_subject_status):
            status = decode_status(record.value)
            trail.setdefault(status.subject_id, []).append(
                (
                    "status",
                    record.partition,
                    record.offset,
                    record.timestamp,
                    status.version,
                    *((e.entry_id, e.listed_at, e.stopped_at) for e in status.entries),
                )
            )
        letters = await read_dead_letters(bootstrap, settings)
        feedback: dict[str, Any] = {}  # event id -> action, in the order reported
        async for record in read_topic(bootstrap, settings.topic_sanction_events):
            action = decode_event(record.value)
            feedback.setdefault(str(action.event_id), action)
            trail.setdefault(action.subject_id, []).append(
                (
                    "feedback",
                    record.partition,
                    record.offset,
                    action.type,
                    action.department,
                    str(action.event_id),
                    tuple(action.measures),
                )
            )
    finally:
        for worker in workers:
            worker.stop()
    return {"tables": tables, "letters": letters, "feedback": feedback, "trail": trail}


def _check(settings: Any, catalog: Any, history: list[dict[str, Any]], found: dict[str, Any]):
    """The live state equals the replay's; nothing applied twice. Returns the feedback count."""
    tables, feedback = found["tables"], found["feedback"]
    replay = Replay(settings, catalog, get_policy(settings.deadline_policy))
    replay.feed_lines(json.dumps(e) for e in history)
    now = replay.latest
    offline = replay.views(now)
    live = dumps.all_views(
        tables["entries"], tables["subjects"], tables["sanctions"], found["letters"], now
    )
    # nothing lost: every entry, subject and sanction, every finding
    for view in ("entries", "subjects"):  # first with where each key's inputs and writes went
        differing = [k for k in offline[view] if live[view].get(k) != offline[view][k]]
        if differing:
            trail = Path(tempfile.gettempdir()) / f"shixin-crash-{settings.app_prefix}.json"
            detail = {k: found["trail"].get(k) for k in differing}
            trail.write_text(json.dumps(detail, indent=1, default=str, ensure_ascii=False))
            raise AssertionError(f"{len(differing)} {view} differ: {differing[:5]}; see {trail}")
    for view in ("entries", "subjects", "findings", "dead_letters"):
        assert live[view] == offline[view], view
    for dept in DEPARTMENTS:
        assert live["sanctions"][dept] == offline["sanctions"][dept], dept
    # no deadline lost, none closed twice: the monitor's table equals the replay's obligations
    monitored = [Obligation.model_validate(r["obligation"]) for r in tables["obligations"].values()]
    expected: list[Obligation] = []
    for raw in replay.entries.values():
        expected += [Obligation.model_validate(o) for o in raw["obligations"]]
    for dept in DEPARTMENTS:
        for raw in replay.sanctions[dept].values():
            expected += [Obligation.model_validate(o) for o in raw["lifts"]]
    judged, wanted = _judged(monitored, now), _judged(expected, now)
    if judged != wanted:  # where each differing obligation's events and table writes went
        differing = sorted(
            k for k in judged.keys() | wanted.keys() if judged.get(k) != wanted.get(k)
        )
        trail = Path(tempfile.gettempdir()) / f"shixin-crash-{settings.app_prefix}.json"
        detail = {k: found["trail"].get(k) for k in differing}
        trail.write_text(json.dumps(detail, indent=1, default=str, ensure_ascii=False))
        raise AssertionError(f"{len(differing)} obligations differ: {differing[:5]}; see {trail}")
    # nothing applied twice: a report sent again after a crash carries the same id; and per
    # department and subject no application repeats the one in force (a second entry needing
    # the same measures is a new application, with other entry ids), no lift lifts what is not
    # in force
    in_force: dict[tuple[str, str], set[str]] = {}
    last_applied: dict[tuple[str, str], tuple[Any, ...] | None] = {}
    for action in feedback.values():
        with _trail_on_failure(settings, found, action.subject_id):
            _check_feedback(action, in_force, last_applied)
    for dept in DEPARTMENTS:
        for subject_id, row in live["sanctions"][dept].items():
            if row["state"] == "applied":
                assert in_force.get((dept, subject_id)) == set(row["measures"]), (dept, subject_id)
    return len(feedback)


@contextmanager
def _trail_on_failure(settings: Any, found: dict[str, Any], key: str) -> Iterator[None]:
    """A failed assertion about `key` leaves where its inputs, statuses, feedback and table
    writes went in /tmp/shixin-crash-<prefix>.json."""
    try:
        yield
    except AssertionError as exc:
        trail = Path(tempfile.gettempdir()) / f"shixin-crash-{settings.app_prefix}.json"
        steps = found["trail"].get(key) or []
        entries = {e[0] for step in steps if step[0] == "status" for e in step[5:]}
        detail = {k: found["trail"].get(k) for k in [key, *sorted(entries)]}
        trail.write_text(json.dumps(detail, indent=1, default=str, ensure_ascii=False))
        raise AssertionError(f"{exc}; see {trail}") from exc


def _check_feedback(
    action: Any,
    in_force: dict[tuple[str, str], set[str]],
    last_applied: dict[tuple[str, str], tuple[Any, ...] | None],
) -> None:
    """One report, in the order reported: no application repeats the one in force, no lift
    lifts what is not in force."""
    key = (action.department, action.subject_id)
    held = in_force.setdefault(key, set())
    measures = set(action.measures)
    if isinstance(action, SanctionsApplied):
        applied = (action.measures, action.entry_ids)
        assert last_applied.get(key) != applied, ("applied twice", action)
        last_applied[key] = applied
        held |= measures
    elif isinstance(action, SanctionsLifted):
        assert measures <= held, ("lifted what was not applied", action)
        held -= measures
        last_applied[key] = None


def _behind(readiness: str) -> Any:
    """From a worker's /readyz: the input partitions whose commit base is behind their end."""
    try:
        apps = json.loads(readiness)["apps"]
    except (ValueError, KeyError, TypeError):
        return readiness[:300]
    return {
        name: state
        for app in apps.values()
        for name, state in app["consuming"].items()
        if state.get("base") is None or (state.get("end") or 0) > state["base"]
    }


def _report_stalls(workers: list[Worker]) -> None:
    """A stall the workers repaired (streams/stalls.py) passes, but is told: its state is how
    the cause will be found."""
    for worker in workers:
        for line in worker.log.read_text(errors="replace").splitlines():
            if "partition.stalled" in line:
                warnings.warn(f"{worker.log.name}: {line[:1500]}", stacklevel=1)


def _logs(settings: Any) -> Path:
    """The workers' logs, where pytest's rotation of temporary directories leaves them."""
    logs = Path(tempfile.gettempdir()) / f"shixin-crash-{settings.app_prefix}"
    logs.mkdir()
    return logs


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_sigkill_again_and_again_loses_nothing_and_doubles_nothing(bootstrap, catalog):
    history = list(generate_history(DEBTORS, seed=31))
    assert len(history) >= 20_000 or DEBTORS != 5600
    settings = isolated_settings()
    await ensure_topics(bootstrap, settings)
    env, logs = worker_env(settings_env(settings, bootstrap)), _logs(settings)
    traced = {**env, "SHIXIN_LOG_LEVEL": "debug"}  # every batch, seek and commit (offsets trace)
    workers = [
        Worker("court", traced, logs),
        Worker("sla", traced, logs),
        Worker(",".join(f"department:{d}" for d in DEPARTMENTS), traced, logs),
    ]
    rng = random.Random(31)
    kills = 0
    started = time.monotonic()

    async def killer() -> None:
        nonlocal kills
        while kills < KILLS:
            await asyncio.sleep(rng.uniform(1.0, 5.0))
            victim = rng.choice(workers)
            victim.kill()
            kills += 1
            log.warning("test.killed", role=victim.role, kills=kills)
            await asyncio.sleep(rng.uniform(0.0, 1.5))
            victim.start()

    found = await _flow(bootstrap, settings, history, workers, killer)
    log.warning(
        "test.crashes",
        events=len(history),
        kills=kills,
        starts={w.role: w.starts for w in workers},
        seconds=round(time.monotonic() - started),
    )
    assert _check(settings, catalog, history, found) > 1_000 and kills == KILLS


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_court_workers_hand_over_while_events_flow(bootstrap, catalog):
    """Two court workers share the partitions; while the history flows one is stopped (its
    partitions and tables move to the other), started again (they move back), and the other is
    killed: the same result as one worker, and as the replay."""
    history = list(generate_history(1_200, seed=37))
    settings = isolated_settings()
    await ensure_topics(bootstrap, settings)
    env, logs = worker_env(settings_env(settings, bootstrap)), _logs(settings)
    traced = {**env, "SHIXIN_LOG_LEVEL": "debug"}  # every batch, seek and commit (offsets trace)
    first, second = Worker("court", traced, logs), Worker("court", traced, logs)
    second.log = logs / "court-2.log"
    workers = [
        first,
        second,
        Worker("sla", env, logs),
        Worker(",".join(f"department:{d}" for d in DEPARTMENTS), env, logs),
    ]

    async def hand_over() -> None:
        await asyncio.sleep(3)
        second.stop()  # graceful: its partitions move to the first
        await asyncio.sleep(4)
        second.start()  # and back
        await asyncio.sleep(4)
        first.kill()  # the first dies: the second takes everything
        await asyncio.sleep(4)
        first.start()

    found = await _flow(bootstrap, settings, history, workers, hand_over)
    assert _check(settings, catalog, history, found) > 100
