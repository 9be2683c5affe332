"""A replay from any source with a rich progress display: what `replay` and `audit report`
share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from shixin.audit.replay import Replay
from shixin.cli.base import err_console
from shixin.runtime.settings import Settings


class _EventsColumn(ProgressColumn):
    """The events the replay has taken in so far (read at each refresh)."""

    def __init__(self, replayer: Replay) -> None:
        super().__init__()
        self.replayer = replayer

    def render(self, task: Task) -> Text:
        return Text(f"{self.replayer.events} events", style="progress.download")


@contextmanager
def _replay_progress(replayer: Replay, total_bytes: int | None) -> Iterator[Progress]:
    """Rich progress on a terminal's stderr while replaying; nothing otherwise."""
    columns: list[ProgressColumn] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total_bytes is not None:
        columns += [BarColumn(), DownloadColumn()]
    columns += [_EventsColumn(replayer), TimeElapsedColumn()]
    with Progress(
        *columns, console=err_console, transient=True, disable=not err_console.is_terminal
    ) as progress:
        yield progress


def replay_with_progress(
    settings: Settings, source: Path | None, until: datetime | None, observer: Any = None
) -> tuple[Replay, str]:
    """A finished replay of `source` and what it read; a usage error if there is no source."""
    from shixin.audit.sources import NoSource, feed_source
    from shixin.runtime.catalogs import get_catalog, policy_for

    replayer = Replay(settings, get_catalog(settings.catalog), policy_for(settings))
    replayer.observer = observer
    size = source.stat().st_size if source is not None and source.is_file() else None
    where = (
        f"the archive {source}"
        if source is not None and size is None
        else (source.name if source is not None else f"the topics on {settings.kafka_bootstrap}")
    )
    try:
        with _replay_progress(replayer, size) as progress:
            task = progress.add_task(f"replaying {where}", total=size)
            described = feed_source(replayer, source, until, lambda n: progress.advance(task, n))
    except NoSource as exc:
        raise click.UsageError(str(exc)) from exc
    return replayer, described
