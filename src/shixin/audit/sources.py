"""Where a replay reads its history from: a JSON Lines file, an archive directory, or the
topics on the broker. Every command that replays (replay, audit report) takes the same sources."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from shixin.audit.from_topics import replay_archive, replay_topics
from shixin.audit.replay import Replay


class NoSource(ValueError):
    pass


def feed_source(
    replayer: Replay,
    source: Path | None,
    until: datetime | None,
    on_bytes: Callable[[int], None] | None = None,
) -> str:
    """Feed `replayer` from `source` (a file or an archive directory; None: the topics) and
    say what was read. `on_bytes` hears how far a file has been read (for progress)."""
    settings = replayer.settings
    replayer.until = until
    if source is not None and source.is_dir():
        replay_archive(replayer, source, until)
        return f"archive {source}"
    if source is not None:
        with source.open("rb") as handle:

            def lines() -> Iterator[str]:
                for raw in handle:
                    if on_bytes is not None:
                        on_bytes(len(raw))
                    yield raw.decode("utf-8")

            replayer.feed_lines(lines())
        return str(source)
    if settings.kafka_bootstrap:
        asyncio.run(replay_topics(replayer, settings.kafka_bootstrap, until))
        return f"topics on {settings.kafka_bootstrap}"
    raise NoSource(
        "give a FILE or an archive DIR, or set SHIXIN_KAFKA_BOOTSTRAP to replay the topics"
    )
