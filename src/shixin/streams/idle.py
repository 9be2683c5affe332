"""Knowing when a pipeline hosted in this process has processed everything there is."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition

from shixin.runtime.offsets import fetched_end_offsets
from shixin.runtime.settings import Settings
from shixin.streams.counters import PROGRESS, STATS
from shixin.streams.roles import Roles


async def wait_idle(
    bootstrap: str, roles: Roles, settings: Settings, timeout: float = 600.0, settle: float = 0.5
) -> None:
    """Return once every agent has processed up to the end of every topic it reads, twice in a
    row with nothing new in between (a message in flight would show up as a new end offset)."""
    consumed = roles.consumed_topics(settings)
    tps = sorted(
        {
            TopicPartition(topic, p)
            for topics in consumed.values()
            for topic in topics
            for p in range(settings.partitions)
        }
    )
    deadline = asyncio.get_running_loop().time() + timeout
    previous: dict[TopicPartition, int] | None = None
    crashes = STATS["agent_crashes"]
    while True:
        if STATS["agent_crashes"] > crashes:
            raise RuntimeError("an agent crashed (see the log); the pipeline cannot become idle")
        ends = await fetched_end_offsets(bootstrap, tps)
        caught_up = all(
            PROGRESS[(app_id, tp.topic, tp.partition)] >= ends[tp]
            for app_id, topics in consumed.items()
            for tp in tps
            if tp.topic in topics
        )
        if caught_up and ends == previous:
            return
        previous = ends if caught_up else None
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the pipeline did not become idle in time")
        await asyncio.sleep(settle)
