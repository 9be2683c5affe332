"""Deadlines through the live pipeline: the monitor's table survives restarts and agrees with the
offline replay; a passed deadline is raised as a breach within seconds."""

from __future__ import annotations

import asyncio
import json

from shixin.audit.replay import Replay
from shixin.domain.events import ANY_EVENT_ADAPTER
from shixin.domain.obligations import Obligation
from shixin.runtime.catalogs import get_policy
from shixin.runtime.reader import read_topic
from shixin.streams.deadline_events import decode_deadline
from shixin.streams.idle import wait_idle
from shixin.streams.pipeline import hosted
from shixin.synthetic import generate_history
from tests.builders import listed, performed, person_id, shielded
from tests.conftest import isolated_settings, settings_env
from tests.e2e.test_cli import shixin
from tests.integration.helpers import feed

DEPARTMENTS = ("aviation", "immigration", "education")
ROLE = ",".join(["court", "sla"] + [f"department:{d}" for d in DEPARTMENTS])


def judged(obligations, now):
    return {
        o.id: (o.kind, o.opened_at, o.due_on, o.closed_at, o.judged(now))
        for o in obligations
        if o.opened_at <= now and (o.department is None or o.department in DEPARTMENTS)
    }


async def test_monitor_survives_a_restart_and_agrees_with_replay(bootstrap, catalog):
    settings = isolated_settings(partitions=2)
    history = list(generate_history(80, seed=5))
    half = len(history) // 2
    async with hosted(ROLE, settings, bootstrap, catalog) as roles:
        await feed(bootstrap, settings, roles, history[:half])
    # every worker stopped and started again in the middle of the history
    async with hosted(ROLE, settings, bootstrap, catalog) as roles:
        await asyncio.wait_for(roles.sla.app.tables.recovery.completed.wait(), timeout=60)
        await feed(bootstrap, settings, roles, history[half:])
        await wait_idle(bootstrap, roles, settings, timeout=60)
        live = [Obligation.model_validate(r["obligation"]) for r in roles.sla.obligations.values()]

    replay = Replay(settings, catalog, get_policy(settings.deadline_policy))
    for raw in history:
        replay.event(ANY_EVENT_ADAPTER.validate_python(raw))
    offline: list[Obligation] = []
    for raw in replay.entries.values():
        offline += [Obligation.model_validate(o) for o in raw["obligations"]]
    for dept in DEPARTMENTS:
        for raw in replay.sanctions[dept].values():
            offline += [Obligation.model_validate(o) for o in raw["lifts"]]
    now = replay.latest
    assert judged(live, now) == judged(offline, now)
    kinds = {v[0] for v in judged(offline, now).values()}
    assert {"court_exit", "department_lift"} <= kinds
    verdicts = {v[4] for v in judged(offline, now).values()}
    assert "met" in verdicts and len(verdicts) > 1


async def test_a_passed_deadline_is_raised_as_a_breach_within_seconds(bootstrap, catalog):
    settings = isolated_settings(sla_check_interval=0.5)
    p = person_id(2801)
    async with hosted("court,sla", settings, bootstrap, catalog) as roles:
        # performed in 2024 and never shielded: the court's 3 days are long gone
        await feed(
            bootstrap,
            settings,
            roles,
            [listed("L1", p), performed("L1", "2024-03-20T10:00:00+08:00")],
        )
        breach = None
        for _ in range(40):
            async for record in read_topic(bootstrap, settings.topic_sla_events):
                change = decode_deadline(record.value)
                if change.type == "DeadlineBreached":
                    breach = change
            if breach:
                break
            await asyncio.sleep(0.25)
        assert breach is not None and breach.obligation.id == "court_exit/L1/performed"
        assert str(breach.obligation.due_on) == "2024-03-25"  # 23rd is a Saturday: next working day
        await wait_idle(bootstrap, roles, settings, timeout=30)
        assert roles.sla.obligations["court_exit/L1/performed"]["breach_reported"] is True
        env = settings_env(settings, bootstrap)
        listed_now = shixin("query", "obligations", "--status", "breached", "--json", env=env)
        assert listed_now.returncode == 0, listed_now.stderr
        rows = json.loads(listed_now.stdout)
        assert [r["id"] for r in rows] == ["court_exit/L1/performed"]
        assert rows[0]["court"] == "C360483" and rows[0]["verdict"] == "breached"
        by_court = shixin("query", "obligations", "--court", "NOPE", "--json", env=env)
        assert json.loads(by_court.stdout) == []
        sla = json.loads(shixin("query", "sla", "--json", env=env).stdout)
        assert sla["courts"]["C360483"]["breached"] == 1
        # shielding late closes it as missed
        await feed(bootstrap, settings, roles, [shielded("L1", "2024-04-01T10:00:00+08:00")])
        record = roles.sla.obligations["court_exit/L1/performed"]
        closed = Obligation.model_validate(record["obligation"])
        assert closed.closed_at is not None and closed.judged(closed.closed_at) == "missed"


async def test_a_breach_is_reported_once_while_the_monitor_has_not_noted_it(bootstrap, catalog):
    # no timer tick during the test: the checks are called here
    settings = isolated_settings(sla_check_interval=3600)
    p = person_id(2802)
    async with hosted("court,sla", settings, bootstrap, catalog) as roles:
        await asyncio.wait_for(roles.sla.app.tables.recovery.completed.wait(), timeout=60)
        assert await roles.sla.check_breaches() == 0  # its due index built, empty
        # the obligation comes through the monitor's own writes, which keep the index
        await feed(
            bootstrap,
            settings,
            roles,
            [listed("L2", p), performed("L2", "2024-03-20T10:00:00+08:00")],
        )
        # the second check comes before the monitor has read the first report back
        assert [await roles.sla.check_breaches(), await roles.sla.check_breaches()] == [1, 0]
        await wait_idle(bootstrap, roles, settings, timeout=30)
        assert roles.sla.obligations["court_exit/L2/performed"]["breach_reported"] is True
        assert await roles.sla.check_breaches() == 0
    reports = [
        change
        async for record in read_topic(bootstrap, settings.topic_sla_events)
        if (change := decode_deadline(record.value)).type == "DeadlineBreached"
    ]
    assert [r.obligation.id for r in reports] == ["court_exit/L2/performed"]


async def test_the_monitor_checks_what_it_recovered_or_was_handed_over(bootstrap, catalog):
    """The monitor looks only at the obligations its due index holds: those it wrote, and,
    built again after each rebalance, those a table recovery brought (a restart, a hand-over)."""
    settings = isolated_settings(sla_check_interval=3600)  # no tick: the checks are called here
    p = person_id(2803)
    async with hosted("court,sla", settings, bootstrap, catalog) as roles:
        await feed(
            bootstrap,
            settings,
            roles,
            [listed("L3", p), performed("L3", "2024-03-20T10:00:00+08:00")],
        )
    # restarted: the obligation comes back through the table's recovery only
    async with hosted("sla", settings, bootstrap, catalog) as roles:
        sla = roles.sla
        await asyncio.wait_for(sla.app.tables.recovery.completed.wait(), timeout=60)
        assert await sla.check_breaches() == 1
        await wait_idle(bootstrap, roles, settings, timeout=30)
        assert await sla.check_breaches() == 0  # reported, and noted
        # a row a recovery writes (straight into the store, not through the monitor): seen
        # once the rebalance that brought it completes
        record = dict(sla.obligations["court_exit/L3/performed"])
        moved = {**record["obligation"], "id": "court_exit/L9/performed"}
        sla.obligations.data[moved["id"]] = {"breach_reported": False, "obligation": moved}
        assert await sla.check_breaches() == 0
        await sla.app.on_rebalance_complete.send()
        assert await sla.check_breaches() == 1
