"""Input partitions whose commits stopped while messages wait: found, logged and read again.

The consumer corrections (`runtime/faust_consumer.py`) close each way the crash tests found for a
partition's commits to stop for good: a message dropped unseen, never acknowledged, and every
commit after it refused. One more stalled a CI run once (the court's facets partition, 1,476
messages behind for four minutes, logs lost with the machine) and did not come back in a dozen
runs here. Whatever the cause, a stalled partition means sanctions never applied or never lifted,
and nothing else notices: the worker is alive and the other partitions flow.

So every app watches its input partitions. One whose commit base (where its next commit must
start) has not moved for `stall_after` seconds while the broker holds later messages, with the
app neither rebalancing nor recovering, is logged with where it stands (what `/readyz` shows)
and read again from that base, as a restart would read it: what was processed after the base
is recognised and changes nothing (intake by position, the other steps by id or version), what
was not is processed now. A partition left paused once the tables are recovered is resumed.
"""

from __future__ import annotations

import time
from typing import Any

import faust
from faust.types import TP

from shixin.runtime.faust_consumer import commit_base, position_reader
from shixin.runtime.logging import get_logger
from shixin.streams.counters import PROGRESS, STATS

log = get_logger(__name__)


def is_input(tp: Any) -> bool:
    """A partition an agent reads (not a table's changelog, not Faust's assignor topic)."""
    return not (tp.topic.endswith("-changelog") or "__assignor" in tp.topic)


def partition_states(app: Any) -> dict[str, dict[str, Any]]:
    """Where each input partition stands: the fetch position, the offset Faust last handed to
    the agent, what the agent processed, what is acknowledged and committed, and where the next
    commit must start (`base`). A partition whose `committed` stays behind `processed` has a
    message that was never acknowledged: the first offset from `base` not in `acked`."""
    try:
        consumer = app.consumer
        assigned = consumer.assignment()
    except Exception:  # no consumer yet
        return {}
    position = position_reader(consumer)
    active = consumer._active_partitions
    paused = paused_partitions(consumer)
    states = {}
    for tp in sorted(assigned):
        if not is_input(tp):
            continue
        acked = consumer._acked.get(tp) or []
        states[f"{tp.topic}/{tp.partition}"] = {
            "position": position(tp),
            "read": consumer._read_offset.get(tp),
            "processed": PROGRESS.get((app.conf.id, tp.topic, tp.partition)),
            "acked": [min(acked), len(acked)] if acked else None,
            "committed": consumer._committed_offset.get(tp),
            "base": commit_base(consumer, tp),
            "end": _end(consumer, tp),
            "active": active is None or tp in active,
            "paused": tp in paused,
        }
    return states


def paused_partitions(consumer: Any) -> set[Any]:
    """The partitions Faust holds paused (table recovery; changelogs included)."""
    return set(getattr(consumer, "_paused_partitions", ()) or ())


def _end(consumer: Any, tp: Any) -> int | None:
    """The partition's end offset as of the consumer's last fetch (None: not fetched yet)."""
    try:
        end = consumer.highwater(tp)
    except Exception:  # no aiokafka consumer yet, or the partition just left
        return None
    return None if end is None else int(end)


class StallWatch:
    """One app's input partitions, looked at every `after / 4` seconds (`install`)."""

    def __init__(self, app: faust.App, after: float) -> None:
        self.app = app
        self.after = after
        self._since: dict[Any, tuple[int, float]] = {}  # partition -> (its base, seen since)

    def install(self) -> None:
        self.app.timer(interval=max(0.25, self.after / 4), name=f"{self.app.conf.id}.stalls")(
            self.tick
        )

    def _settled(self) -> bool:
        app: Any = self.app
        return bool(
            app.started
            and not app.rebalancing
            and app.tables.recovery.completed.is_set()
            and app.flow_control.is_active()
        )

    def stalled(self, now: float) -> list[Any]:
        """The partitions whose base has stayed, behind their end, for `after` seconds."""
        if not self._settled():
            self._since.clear()  # a rebalance or a recovery moves bases by itself
            return []
        consumer: Any = self.app.consumer
        try:
            assigned = consumer.assignment()
        except Exception:  # no consumer yet
            return []
        watching: dict[Any, tuple[int, float]] = {}
        found = []
        for tp in assigned:
            if not is_input(tp):
                continue
            base, end = commit_base(consumer, tp), _end(consumer, tp)
            if base is None or end is None or base >= end:
                continue
            since = self._since.get(tp)
            if since is None or since[0] != base:
                since = (base, now)
            watching[tp] = since
            if now - since[1] >= self.after:
                found.append(tp)
        self._since = watching
        return found

    async def tick(self) -> None:
        for tp in self.stalled(time.monotonic()):
            await self.repair(tp)

    async def repair(self, tp: Any) -> None:
        consumer: Any = self.app.consumer
        base = commit_base(consumer, tp)
        if base is None:
            return
        name = f"{tp.topic}/{tp.partition}"
        state = partition_states(self.app).get(name, {})
        since = self._since.pop(tp, (base, time.monotonic()))
        log.warning(
            "partition.stalled",
            app=self.app.conf.id,
            partition=name,
            seconds=round(time.monotonic() - since[1], 1),
            **state,
        )
        STATS["partition_stalls"] += 1
        if tp in paused_partitions(consumer):
            consumer.resume_partitions({TP(tp.topic, tp.partition)})
        await consumer.seek(TP(tp.topic, tp.partition), base)


__all__ = ["StallWatch", "is_input", "partition_states", "paused_partitions"]
