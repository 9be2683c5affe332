"""Where a replay reads its history from: a JSON Lines file, an archive directory, or the
topics on the broker. Every command that replays (replay, audit report) takes the same sources."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from shixin.audit.from_topics import replay_archive, replay_topics
from shixin.audit.replay import Replay
from shixin.runtime.catalogs import get_catalog, get_policy
from shixin.runtime.settings import Settings


class NoSource(ValueError):
    pass


def replay_source(settings: Settings, source: Path | None, until: datetime | None) -> Replay:
    """A finished replay of `source` (file or archive directory; None: the topics)."""
    replayer = Replay(settings, get_catalog(settings.catalog), get_policy(settings.deadline_policy))
    replayer.until = until
    if source is not None and source.is_dir():
        replay_archive(replayer, source, until)
    elif source is not None:
        with source.open(encoding="utf-8") as handle:
            replayer.feed_lines(handle)
    elif settings.kafka_bootstrap:
        asyncio.run(replay_topics(replayer, settings.kafka_bootstrap, until))
    else:
        raise NoSource(
            "give a FILE or an archive DIR, or set SHIXIN_KAFKA_BOOTSTRAP to replay the topics"
        )
    return replayer
