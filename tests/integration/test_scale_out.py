"""Two workers of one role share the partitions; stopping one moves its partitions and state to
the other; the result is the same as with one worker (and as the offline replay)."""

from __future__ import annotations

import asyncio

from shixin.audit.replay import Replay
from shixin.domain.events import ANY_EVENT_ADAPTER
from shixin.runtime.catalogs import get_policy
from shixin.streams.idle import wait_idle
from shixin.streams.pipeline import hosted
from shixin.synthetic import generate_history
from tests.conftest import isolated_settings
from tests.integration.helpers import feed


def assigned(roles) -> set[int]:
    """The court.events partitions this worker consumes."""
    topic = roles.court.settings.topic_court_events
    return {tp.partition for tp in roles.court.app.consumer.assignment() if tp.topic == topic}


async def test_two_court_workers_share_and_hand_over(bootstrap, catalog):
    settings = isolated_settings(partitions=4)
    history = list(generate_history(60, seed=21))
    half = len(history) // 2
    async with hosted("court", settings, bootstrap, catalog) as first:
        async with hosted("court", settings, bootstrap, catalog) as second:
            for _ in range(60):  # both in the group, each with its own share
                a, b = assigned(first), assigned(second)
                if a and b and not (a & b):
                    break
                await asyncio.sleep(0.5)
            a, b = assigned(first), assigned(second)
            assert a and b and not (a & b)
            await feed(bootstrap, settings, first, history[:half])
            await wait_idle(bootstrap, second, settings, timeout=60)
        # the second worker stopped: the first takes every partition and its state over
        for _ in range(60):
            if assigned(first) == {0, 1, 2, 3}:
                break
            await asyncio.sleep(0.5)
        assert assigned(first) == {0, 1, 2, 3}
        app = first.court.app
        for _ in range(120):  # the hand-over is done once no rebalance or recovery is running
            if not app.rebalancing and not app.tables.recovery.in_recovery:
                break
            await asyncio.sleep(0.25)
        await feed(bootstrap, settings, first, history[half:])
        await wait_idle(bootstrap, first, settings, timeout=60)
        await asyncio.sleep(1)
        entries = dict(first.court.entries.items())
        subjects = dict(first.court.subjects.items())

    replay = Replay(settings, catalog, get_policy(settings.deadline_policy))
    for raw in history:
        replay.event(ANY_EVENT_ADAPTER.validate_python(raw))
    assert {k: v["state"] for k, v in entries.items()} == {
        k: v["state"] for k, v in replay.entries.items()
    }
    assert {k: v["version"] for k, v in entries.items()} == {
        k: v["version"] for k, v in replay.entries.items()
    }
    assert subjects.keys() == replay.subjects.keys()
