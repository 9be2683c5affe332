"""Prometheus metrics of the api (`/metrics`).

Counts of events come from the broker's offsets, not from this process, so that every api
worker shows the whole pipeline: messages per topic (end offsets), events processed and lag per
consumer group (committed offsets), dead letters. Deadlines and listings are counted over the
replicas at scrape time; checks and requests are this worker's own counters.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from shixin.domain.catalog import Catalog
from shixin.runtime.logging import get_logger
from shixin.runtime.offsets import fetched_end_offsets
from shixin.runtime.security import client_options
from shixin.runtime.settings import Settings
from shixin.streams.topics import facets_topic_name, public_topics
from shixin.web.readmodels import ReadModels
from shixin.web.replicas import Tailer

log = get_logger(__name__)


LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)  # seconds


class Metrics:
    """This worker's counts of checks and requests, and the state of the pipeline.

    Each request counts itself in plain integers, exported at scrape time by a collector
    (`_RequestCollector`): prometheus-client's own counters and histograms take a lock and go
    through a value object per increment, 1.8 µs per check of the 60-odd the whole request
    costs."""

    def __init__(self, read: ReadModels, tailer: Tailer | None) -> None:
        self.registry = CollectorRegistry()
        self.checks: dict[tuple[str, bool], int] = {}
        self.requests: dict[tuple[str, int], int] = {}
        # route -> (requests per latency bucket, the last for slower than every bound; seconds)
        self.latency: dict[str, tuple[list[int], list[float]]] = {}
        self.offsets = OffsetsView()
        self.registry.register(_RequestCollector(self))
        self.registry.register(_StateCollector(read, tailer, self.offsets))

    def count_check(self, action: str, allowed: bool) -> None:
        key = (action, allowed)
        self.checks[key] = self.checks.get(key, 0) + 1

    def count_request(self, route: str, status: int, seconds: float) -> None:
        key = (route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        timer = self.latency.get(route)
        if timer is None:
            timer = self.latency[route] = ([0] * (len(LATENCY_BUCKETS) + 1), [0.0])
        timer[0][bisect_left(LATENCY_BUCKETS, seconds)] += 1
        timer[1][0] += seconds


def _bound(seconds: float) -> str:
    """A bucket's bound as prometheus-client writes it (`repr`: 0.0005, 1.0)."""
    return repr(seconds)


class _RequestCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Any]:
        checks = CounterMetricFamily(
            "shixin_checks",
            "Interception checks answered by this worker",
            labels=["action", "result"],
        )
        for (action, allowed), count in sorted(self.metrics.checks.items()):
            checks.add_metric([action, "allowed" if allowed else "blocked"], count)
        yield checks
        requests = CounterMetricFamily(
            "shixin_http_requests",
            "HTTP requests answered by this worker",
            labels=["route", "status"],
        )
        for (route, status), count in sorted(self.metrics.requests.items()):
            requests.add_metric([route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "shixin_http_request_seconds", "Time to answer an HTTP request", labels=["route"]
        )
        for route, (counts, total) in sorted(self.metrics.latency.items()):
            cumulative = list(accumulate(counts))
            # the last count (slower than every bound) only in +Inf
            bounds = zip(LATENCY_BUCKETS, cumulative, strict=False)
            buckets = [(_bound(b), n) for b, n in bounds]
            buckets.append(("+Inf", cumulative[-1]))
            latency.add_metric([route], buckets, sum_value=total[0])
        yield latency


class OffsetsView:
    """The last offsets seen by the poller: end offsets per topic, committed per group."""

    def __init__(self) -> None:
        self.ends: dict[str, int] = {}
        self.committed: dict[tuple[str, str], int] = {}
        self.lag: dict[tuple[str, str], int] = {}


class _StateCollector(Collector):
    def __init__(self, read: ReadModels, tailer: Tailer | None, offsets: OffsetsView) -> None:
        self.read = read
        self.tailer = tailer
        self.offsets = offsets

    def collect(self) -> Iterator[Any]:
        messages = GaugeMetricFamily(
            "shixin_topic_messages",
            "Messages written to a topic (its end offsets)",
            labels=["topic"],
        )
        for topic, end in sorted(self.offsets.ends.items()):
            messages.add_metric([topic], end)
        yield messages
        processed = GaugeMetricFamily(
            "shixin_events_processed",
            "Messages a consumer group has processed and committed",
            labels=["group", "topic"],
        )
        lag = GaugeMetricFamily(
            "shixin_consumer_lag",
            "Messages a consumer group has still to process",
            labels=["group", "topic"],
        )
        for (group, topic), value in sorted(self.offsets.committed.items()):
            processed.add_metric([group, topic], value)
            lag.add_metric([group, topic], self.offsets.lag.get((group, topic), 0))
        yield processed
        yield lag
        dead = GaugeMetricFamily("shixin_dead_letters", "Messages in the dead-letter topic")
        dead.add_metric([], self.offsets.ends.get("dead_letters", 0))
        yield dead
        deadlines = GaugeMetricFamily(
            "shixin_deadlines", "Obligations by kind and verdict now", labels=["kind", "verdict"]
        )
        for (kind, verdict), count in sorted(self.read.deadline_counts(datetime.now(UTC)).items()):
            deadlines.add_metric([kind, verdict], count)
        yield deadlines
        listed = GaugeMetricFamily("shixin_listed_entries", "Entries on the list now")
        listed.add_metric([], self.read.listed_entries())
        yield listed
        replica = GaugeMetricFamily(
            "shixin_replica_lag",
            "Records this api worker has still to read, of those there at its start",
            labels=["topic"],
        )
        for topic, value in sorted((self.tailer.lag() if self.tailer else {}).items()):
            replica.add_metric([topic], value)
        yield replica
        ready = GaugeMetricFamily("shixin_replica_ready", "1 once the replicas caught up")
        ready.add_metric([], 1 if self.tailer is None or self.tailer.ready.is_set() else 0)
        yield ready


def consumed(settings: Settings, catalog: Catalog) -> dict[str, list[str]]:
    """consumer group -> the topics its agents read (as `Roles.consumed_topics` says)."""
    prefix = settings.app_prefix
    out = {
        f"{prefix}-court": [settings.topic_court_events, facets_topic_name(settings)],
        f"{prefix}-sla": [settings.topic_sla_events],
    }
    for department in catalog.departments:
        out[f"{prefix}-department-{department.id}"] = [
            settings.topic_subject_status,
            settings.topic_confirmations,
        ]
    return out


class OffsetPoller:
    """Refreshes end offsets and the consumer groups' committed offsets.

    Committed offsets are read with one group-bound consumer per group that never joins it
    (no subscription: it only fetches offsets), since the embedded broker does not answer the
    admin client's OffsetFetch."""

    def __init__(
        self, bootstrap: str, settings: Settings, catalog: Catalog, view: OffsetsView
    ) -> None:
        self.bootstrap = bootstrap
        self.settings = settings
        self.view = view
        self.groups = consumed(settings, catalog)
        self.topics = sorted({*public_topics(settings), facets_topic_name(settings)})
        self._consumers: dict[str, AIOKafkaConsumer] = {}

    async def poll(self) -> None:
        await _poll_once(
            self.bootstrap, self.settings, self.topics, self.groups, self._consumers, self.view
        )

    async def run(self, every: float = 5.0) -> None:
        """Poll until cancelled."""
        try:
            while True:
                try:
                    await self.poll()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # metrics must never take the api down
                    log.warning("metrics.poll_failed", error=repr(exc))
                await asyncio.sleep(every)
        finally:  # together: one after another, the demo's 45 took up to 3 s to stop
            consumers, self._consumers = list(self._consumers.values()), {}
            await asyncio.gather(*(c.stop() for c in consumers), return_exceptions=True)


async def _poll_once(
    bootstrap: str,
    settings: Settings,
    topics: list[str],
    groups: dict[str, list[str]],
    consumers: dict[str, AIOKafkaConsumer],
    view: OffsetsView,
) -> None:
    tps = [TopicPartition(t, p) for t in topics for p in range(settings.partitions)]
    ends = await fetched_end_offsets(bootstrap, tps)
    by_topic: dict[str, int] = {}
    for tp, end in ends.items():
        by_topic[tp.topic] = by_topic.get(tp.topic, 0) + end
    by_topic["dead_letters"] = by_topic.get(settings.topic_dead_letters, 0)
    committed: dict[tuple[str, str], int] = {}
    lag: dict[tuple[str, str], int] = {}
    for group, group_topics in groups.items():
        consumer = consumers.get(group)
        if consumer is None:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=bootstrap,
                group_id=group,
                enable_auto_commit=False,
                **client_options(settings),
            )
            await consumer.start()
            consumers[group] = consumer
        wanted = [tp for tp in tps if tp.topic in group_topics]
        offsets = await consumer._coordinator.fetch_committed_offsets(wanted)
        if not offsets:
            continue  # no such group (that role does not run)
        name = group.removeprefix(f"{settings.app_prefix}-")
        for tp in wanted:
            meta = offsets.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else 0
            key = (name, tp.topic)
            committed[key] = committed.get(key, 0) + done
            lag[key] = lag.get(key, 0) + max(0, ends.get(tp, 0) - done)
    view.ends, view.committed, view.lag = by_topic, committed, lag
