"""Workers as real processes (`shixin worker --role R`), and what tests read from outside them:
the consumer groups' committed offsets and the tables' changelogs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from bench.workers import WorkerProcess

from shixin.consumers.department import table_name
from shixin.projections.queries import changelog_topic
from shixin.runtime.groups import committed_offsets
from shixin.runtime.offsets import fetched_end_offsets
from shixin.runtime.reader import read_topic
from shixin.runtime.settings import Settings
from shixin.streams.topics import facets_topic_name


class Worker(WorkerProcess):
    """One `shixin worker` process (the benchmarks' kind); SIGKILL, SIGSTOP and start again as
    often as a test likes."""

    def __init__(self, role: str, env: dict[str, str], log_dir: Path) -> None:
        super().__init__(role, env, log_dir / f"{role.replace(':', '_').replace(',', '+')}.log")
        self.starts = 0

    def start(self) -> Worker:
        super().start()
        self.starts += 1
        return self

    def pause(self) -> None:
        """SIGSTOP: a department whose system hangs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def readiness(self) -> str:
        """What the worker's /readyz says (for a failure's message)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=5) as r:
                return str(r.read().decode())
        except urllib.error.HTTPError as exc:
            return str(exc.read().decode())
        except OSError as exc:
            return f"no answer: {exc}"


def group_inputs(
    settings: Settings, departments: list[str], court: bool = True, sla: bool = True
) -> dict[str, list[str]]:
    """consumer group -> the topics it reads."""
    prefix = settings.app_prefix
    groups = {}
    if court:
        groups[f"{prefix}-court"] = [settings.topic_court_events, facets_topic_name(settings)]
    if sla:
        groups[f"{prefix}-sla"] = [settings.topic_sla_events]
    for dept in departments:
        groups[f"{prefix}-department-{dept}"] = [
            settings.topic_subject_status,
            settings.topic_confirmations,
        ]
    return groups


async def lag(
    bootstrap: str, settings: Settings, groups: dict[str, list[str]]
) -> tuple[dict[str, int], dict[Any, int]]:
    """Per group, the records not yet committed; and the end offsets seen."""
    tps = {
        g: [TopicPartition(t, p) for t in topics for p in range(settings.partitions)]
        for g, topics in groups.items()
    }
    ends = await fetched_end_offsets(bootstrap, {tp for v in tps.values() for tp in v})
    behind = {}
    for group, parts in tps.items():
        done = await committed_offsets(bootstrap, settings, group, parts)
        for tp in parts:
            missing = max(0, ends[tp] - max(0, done.get(tp, -1)))
            if missing:
                behind[f"{group} {tp.topic}/{tp.partition}"] = missing
        behind.setdefault(group, 0)
    return behind, ends


async def wait_groups_idle(
    bootstrap: str,
    settings: Settings,
    departments: list[str],
    timeout: float = 300,
    court: bool = True,
    sla: bool = True,
) -> None:
    """Until every group has committed the end of every topic it reads, twice in a row."""
    groups = group_inputs(settings, departments, court, sla)
    deadline = asyncio.get_running_loop().time() + timeout
    previous: dict[Any, int] | None = None
    while True:
        behind, ends = await lag(bootstrap, settings, groups)
        caught_up = not any(behind.values())
        if caught_up and ends == previous:
            return
        previous = ends if caught_up else None
        if asyncio.get_running_loop().time() > deadline:
            late = {g: n for g, n in behind.items() if n}
            raise TimeoutError(f"the workers did not become idle in time: {late} behind")
        await asyncio.sleep(1.0)


async def table_contents(bootstrap: str, topic: str) -> dict[str, Any]:
    """A table as its changelog leaves it: the last value of every key."""
    table: dict[str, Any] = {}
    async for record in read_topic(bootstrap, topic):
        key = json.loads(record.key)
        if record.value is None:
            table.pop(key, None)
        else:
            table[key] = json.loads(record.value)
    return table


async def live_tables(bootstrap: str, settings: Settings, departments: list[str]) -> dict[str, Any]:
    return {
        "entries": await table_contents(bootstrap, changelog_topic(settings, "court", "entries")),
        "subjects": await table_contents(bootstrap, changelog_topic(settings, "court", "subjects")),
        "obligations": await table_contents(
            bootstrap, changelog_topic(settings, "sla", "obligations")
        ),
        "sanctions": {
            d: await table_contents(
                bootstrap, changelog_topic(settings, f"department-{d}", table_name(d))
            )
            for d in departments
        },
    }


def worker_env(env: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **env}
