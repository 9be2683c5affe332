"""Court-role throughput with 1, 2, 4 ... worker processes (`shixin worker --role court`) on
this machine: the same court events, the same partitions, one broker.

For each count: start the workers (a consumer group and topics of their own), wait until every
worker is ready and steady (group joined, partitions assigned), then publish the court events and
time from the first send to the last facet folded (each worker's `/metrics` polled every 0.1 s:
the next offset per partition, the furthest any worker got). CPU seconds of the workers, the
broker and this process over that interval say where the cores went. Baseline: 1 worker."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import bench_settings, court_events, court_messages, produce
from bench.workers import (
    WorkerProcess,
    all_ready,
    broker_pid,
    close_session,
    cpu_seconds,
    machine_cpu,
    progress,
    worker_env,
)


async def _one(
    count: int, messages: list[tuple[bytes, bytes]], size: dict[str, Any], bootstrap: str
) -> dict[str, Any]:
    from aiokafka import TopicPartition

    from shixin.runtime.offsets import fetched_end_offsets
    from shixin.streams.topics import facets_topic_name

    tag = f"w{count}"
    settings = bench_settings(
        partitions=size["partitions"],
        app_prefix=f"bench-{tag}",
        topic_court_events=f"court.events.{tag}",
        topic_subject_status=f"subject.status.{tag}",
        topic_sanction_events=f"sanction.events.{tag}",
        topic_confirmations=f"department.confirmations.{tag}",
        topic_sla_events=f"sla.events.{tag}",
        topic_dead_letters=f"shixin.dead-letters.{tag}",
        topic_access_log=f"shixin.access-log.{tag}",
    )
    app_id = f"{settings.app_prefix}-court"
    facets = facets_topic_name(settings)
    logs = Path(tempfile.mkdtemp(prefix=f"bench-scaling-{tag}-"))
    env = worker_env(settings, bootstrap)
    workers = [WorkerProcess("court", env, logs / f"court-{i}.log").start() for i in range(count)]
    broker = broker_pid(bootstrap)
    try:
        await all_ready(workers, timeout=180)
        cpu_before = {w.pid: cpu_seconds(w.pid) for w in workers}
        broker_before = cpu_seconds(broker) if broker else 0.0
        own_before = sum(os.times()[:2])
        machine_before = machine_cpu()
        started = time.monotonic()
        await produce(bootstrap, settings.topic_court_events, messages, settings.partitions)
        published = time.monotonic()
        deadline = started + 1800
        court_tps = [(settings.topic_court_events, p) for p in range(settings.partitions)]
        ends: dict[tuple[str, int], int] | None = None
        while True:
            seen = await progress(workers, app_id)
            if ends is None and sum(seen.get(tp, 0) for tp in court_tps) >= len(messages):
                # every court event processed: its facets are on the broker (outputs before acks)
                fetched = await fetched_end_offsets(
                    bootstrap, [TopicPartition(facets, p) for p in range(settings.partitions)]
                )
                ends = {(tp.topic, tp.partition): offset for tp, offset in fetched.items()}
            if ends is not None and all(seen.get(tp, 0) >= end for tp, end in ends.items()):
                done = time.monotonic()
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} worker(s) did not finish in time")
            await asyncio.sleep(0.1)
        seconds = done - started
        worker_cpu = sum(cpu_seconds(w.pid) - cpu_before[w.pid] for w in workers)
        broker_cpu = (cpu_seconds(broker) - broker_before) if broker else None
        own_cpu = sum(os.times()[:2]) - own_before
        machine_after = machine_cpu()
        machine_busy = (machine_after[0] - machine_before[0]) / (
            machine_after[1] - machine_before[1]
        )
        cores = os.cpu_count() or 1
        return {
            "workers": count,
            "events": len(messages),
            "facets": sum(ends.values()),
            "seconds": round(seconds, 2),
            "publish_seconds": round(published - started, 2),
            "events_per_s": round(len(messages) / seconds, 1),
            "cpu_seconds": {
                "workers": round(worker_cpu, 2),
                "broker": None if broker_cpu is None else round(broker_cpu, 2),
                "bench": round(own_cpu, 2),
            },
            # share of the machine's cores busy with this run over its interval
            "cpu_busy": round((worker_cpu + (broker_cpu or 0.0) + own_cpu) / (seconds * cores), 3),
            # share of the machine's cores busy with anything (other work on a shared machine)
            "machine_busy": round(machine_busy, 3),
            "worker_cpu_per_event_ms": round(1000 * worker_cpu / len(messages), 3),
        }
    finally:
        for worker in workers:
            worker.stop()


async def run(history: Path, size: dict[str, Any], bootstrap: str) -> dict[str, Any]:
    messages = court_messages(court_events(history, size["scaling_events"]))
    rows = []
    try:
        for count in size["scaling_workers"]:
            rows.append(await _one(count, messages, size, bootstrap))
    finally:
        await close_session()
    return {"partitions": size["partitions"], "cores": os.cpu_count(), "workers": rows}
