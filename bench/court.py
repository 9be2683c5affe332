"""The court role (intake + subject fold + status) over pre-published court events: events/s
from the first event processed to the last status sent (start-up and group join left out).

Also the court role's steps alone over the same messages, in this process, no Kafka: decode,
intake, the facets' JSON, the subject fold and the status's Avro, as the agents call them (their
tables plain dicts, as a Faust table holds its rows). It is the rate no delivery, batched or
not, could take the role past while its steps cost what they cost."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.common import bench_settings, court_events, court_messages, produce, until


async def run(history: Path, size: dict[str, Any], bootstrap: str) -> dict[str, Any]:
    from aiokafka import TopicPartition

    from shixin.runtime.catalogs import get_catalog
    from shixin.runtime.offsets import fetched_end_offsets
    from shixin.streams.counters import PROGRESS
    from shixin.streams.pipeline import hosted
    from shixin.streams.topics import facets_topic_name

    settings = bench_settings(partitions=size["partitions"])
    messages = court_messages(court_events(history, size["court_events"]))
    steps = steps_alone(messages)
    await produce(bootstrap, settings.topic_court_events, messages, settings.partitions)
    app_id = f"{settings.app_prefix}-court"
    facets = facets_topic_name(settings)

    def progress(topic: str) -> int:
        return sum(PROGRESS[(app_id, topic, p)] for p in range(settings.partitions))

    async with hosted("court", settings, bootstrap, get_catalog()) as roles:
        assert roles.court is not None
        first = await until(lambda: progress(settings.topic_court_events) > 0, timeout=120)
        cpu_first = time.process_time()
        await until(lambda: progress(settings.topic_court_events) >= len(messages), timeout=900)
        # then the subject fold catches up with every facet the intake sent
        tps = [TopicPartition(facets, p) for p in range(settings.partitions)]
        ends = await fetched_end_offsets(bootstrap, tps)
        done = await until(
            lambda: all(PROGRESS[(app_id, facets, tp.partition)] >= ends[tp] for tp in tps),
            timeout=900,
        )
        cpu = time.process_time() - cpu_first
        statuses = await fetched_end_offsets(
            bootstrap,
            [TopicPartition(settings.topic_subject_status, p) for p in range(settings.partitions)],
        )
    seconds = done - first
    return {
        "events": len(messages),
        "facets": sum(ends.values()),
        "statuses": sum(statuses.values()),
        "seconds": round(seconds, 2),
        "events_per_s": round(len(messages) / seconds, 1),
        # the worker's CPU over the same interval: below the interval, it waited for the broker
        "cpu_seconds": round(cpu, 2),
        "cpu_ms_per_event": round(cpu * 1000 / len(messages), 3),
        "measured_at": time.time(),
        **steps,
    }


def steps_alone(messages: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The court agents' steps over the messages, no Kafka (best of two rounds)."""
    from shixin.domain.entries import LifecycleError
    from shixin.domain.subjects import EntryFacet
    from shixin.projections.steps import intake_step, subject_step
    from shixin.runtime.catalogs import get_policy
    from shixin.streams.court import decode_court_event
    from shixin.streams.deadline_events import encode_deadline
    from shixin.streams.subject_status import encode_status

    policy = get_policy("brief")
    best = float("inf")
    for _ in range(2):
        entries: dict[str, Any] = {}
        subjects: dict[str, Any] = {}
        started = time.perf_counter()
        for n, (_key, value) in enumerate(messages):
            try:
                event = decode_court_event(value)
                facets, deadlines = intake_step(entries, event, f"court.events/0@{n}", policy)
            except LifecycleError:
                continue
            for change in deadlines:
                encode_deadline(change)
            for facet in facets:
                status = subject_step(
                    subjects, EntryFacet.model_validate_json(facet.model_dump_json().encode())
                )
                if status is not None:
                    encode_status(status)
        best = min(best, time.perf_counter() - started)
    return {
        "steps_events_per_s": round(len(messages) / best, 1),
        "steps_us_per_event": round(best * 1e6 / len(messages), 1),
    }
