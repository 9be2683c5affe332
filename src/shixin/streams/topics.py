"""Topic declarations shared by every role. Keys are JSON strings (Faust's table keys are too)."""

from __future__ import annotations

import json
from typing import Any

import faust

from shixin.runtime.settings import Settings


def key_bytes(key: str) -> bytes:
    """The key bytes every producer uses, so partitioning and table routing agree."""
    return json.dumps(key).encode()


def raw_topic(
    app: faust.App, name: str, settings: Settings, *, raw_keys: bool = False, **kwargs: Any
) -> faust.TopicT:
    """A topic whose values we decode ourselves, so bad bytes become dead letters, not errors.

    `raw_keys`: for topics outsiders write to, where a key may be anything.
    """
    return app.topic(
        name,
        key_type=None if raw_keys else str,
        key_serializer="raw" if raw_keys else "json",
        value_serializer="raw",
        partitions=settings.partitions,
        **kwargs,
    )


def facets_topic_name(settings: Settings) -> str:
    return f"{settings.app_prefix}-court-entry-facets"


def public_topics(settings: Settings) -> list[str]:
    return [
        settings.topic_court_events,
        settings.topic_subject_status,
        settings.topic_sanction_events,
        settings.topic_confirmations,
        settings.topic_sla_events,
        settings.topic_dead_letters,
    ]
