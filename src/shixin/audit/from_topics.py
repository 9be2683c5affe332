"""Replay straight from the broker, or from an archive of its topics: court.events and the
people's confirmations recorded on sanction.events, read with no consumer group (nothing live is
disturbed), rebuilt by the pure core with the positions the records really have.

Partitions are merged by event time, each partition kept in its own order: any such merge gives
the same projections (the property tests prove it), and keeping each partition's order keeps
exactly the live pipeline's verdict on every out-of-order event.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shixin.audit.replay import Replay, fewer_collections
from shixin.domain.events import (
    COURT_EVENT_TYPES,
    AnyEvent,
    SanctionsApplied,
    SanctionsLifted,
    SanctionsRetained,
    event_time,
)
from shixin.domain.reasons import describe_validation_error
from shixin.runtime.reader import read_topic
from shixin.schemas.errors import DecodeError
from shixin.schemas.model_codec import decode_event

Item = tuple[datetime | None, int, int, Any]  # (event time, partition, offset, event or error)
_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _decoded(record: Any) -> Item:
    """A record (anything with partition, offset and value) as a merge item."""
    item: Any
    try:
        item = decode_event(record.value)
        moment: datetime | None = event_time(item)
    except DecodeError as exc:
        item, moment = exc.reason, None
    except ValidationError as exc:
        item, moment = describe_validation_error(exc), None
    return (moment, record.partition, record.offset, item)


def _by_partition(items: Iterable[Item]) -> dict[int, list[Item]]:
    out: dict[int, list[Item]] = {}
    for item in items:
        out.setdefault(item[1], []).append(item)
    return out


async def _read(bootstrap: str, topic: str) -> dict[int, list[Item]]:
    return _by_partition([_decoded(r) async for r in read_topic(bootstrap, topic)])


def _merge(partitions: dict[int, list[Item]]) -> Iterator[Item]:
    """Merge on event time, each partition in its own order (heapq.merge only compares heads);
    an undecodable record keeps its place right after the record before it."""

    def keyed(items: list[Item]) -> Iterator[tuple[datetime, Item]]:
        key = _EARLIEST
        for item in items:
            key = item[0] or key
            yield key, item

    for _key, item in heapq.merge(*(keyed(v) for v in partitions.values()), key=lambda x: x[0]):
        yield item


async def replay_topics(replayer: Replay, bootstrap: str, until: datetime | None = None) -> None:
    """Feed `replayer` from the broker's topics, up to event time `until` if given."""
    settings = replayer.settings
    court = await _read(bootstrap, settings.topic_court_events)
    feedback = await _read(bootstrap, settings.topic_sanction_events)
    replay_partitions(replayer, court, feedback, until)


def replay_archive(replayer: Replay, root: Path, until: datetime | None = None) -> None:
    """Feed `replayer` from an archive directory: the same records, so the same result."""
    from shixin.audit.archive import archive_records

    settings = replayer.settings
    with fewer_collections():
        court = _by_partition(map(_decoded, archive_records(root, settings.topic_court_events)))
        feedback = _by_partition(
            map(_decoded, archive_records(root, settings.topic_sanction_events))
        )
        replay_partitions(replayer, court, feedback, until)


def replay_partitions(
    replayer: Replay,
    court: dict[int, list[Item]],
    feedback: dict[int, list[Item]],
    until: datetime | None,
) -> None:
    with fewer_collections():
        _replay_partitions(replayer, court, feedback, until)


def _replay_partitions(
    replayer: Replay,
    court: dict[int, list[Item]],
    feedback: dict[int, list[Item]],
    until: datetime | None,
) -> None:
    settings = replayer.settings
    confirmations = {
        p: [it for it in items if _is_confirmation(it[3])] for p, items in feedback.items()
    }
    # one merged stream; court partitions keep their numbers, confirmations come after them
    merged: dict[int, list[Item]] = dict(court)
    offset = max(court, default=-1) + 1
    for p, items in confirmations.items():
        merged[offset + p] = items
    topic = settings.topic_court_events
    for moment, partition, position, item in _merge(merged):
        if until is not None and moment is not None and moment > until:
            continue
        if isinstance(item, str):
            if partition in court:
                replayer.dead_letter(item, topic, partition, position, None)
            continue
        event: AnyEvent = item
        if isinstance(event, COURT_EVENT_TYPES):
            replayer.note_time(event_time(event))
            replayer.events += 1
            replayer.court_event(event, partition, position)
        else:
            replayer.event(event)


def _is_confirmation(item: Any) -> bool:
    return (
        isinstance(item, SanctionsApplied | SanctionsLifted | SanctionsRetained)
        and item.origin == "person"
    )
