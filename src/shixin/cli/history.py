"""Histories of events: publish, run, replay, generate."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click

from shixin.cli.base import main, parse_time, print_json, settings_with

# --- publish, run, replay ----------------------------------------------------------------------


def _read_events_or_exit(path: Path) -> list[Any]:
    from shixin.streams.publish import parse_lines

    with path.open("rb") as handle:
        events, errors = parse_lines(handle)
    if errors:
        for error in errors:
            click.echo(f"{path}:{error}", err=True)
        click.echo(f"{len(errors)} invalid line(s); nothing was published", err=True)
        raise SystemExit(2)
    return events


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def publish(file: Path, as_json: bool) -> None:
    """Validate a JSON Lines file of events, then publish all of it (or nothing)."""
    from shixin.runtime.admin import ensure_topics
    from shixin.streams.publish import publish_events

    events = _read_events_or_exit(file)
    settings = settings_with()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP (e.g. from `shixin broker`)")

    async def go() -> int:
        assert settings.kafka_bootstrap
        await ensure_topics(settings.kafka_bootstrap, settings)
        return await publish_events(settings.kafka_bootstrap, settings, events)

    count = asyncio.run(go())
    if as_json:
        print_json({"published": count})
    else:
        click.echo(f"published {count} event(s)")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dump", "dump_dir", required=True, type=click.Path(path_type=Path))
@click.option(
    "--now",
    "now_text",
    default=None,
    help="judge deadlines at this time (default: the latest event)",
)
def run(file: Path, dump_dir: Path, now_text: str | None) -> None:
    """Publish FILE through the full live pipeline on the embedded broker, dump, stop."""
    from shixin.projections.dumps import write_dumps
    from shixin.runtime.broker import EmbeddedBroker
    from shixin.runtime.catalogs import get_catalog
    from shixin.streams.pipeline import run_events

    now = parse_time(now_text, "--now")
    events = _read_events_or_exit(file)
    # event clock: a replayed history is judged as it happened; a longer linger: throughput
    settings = settings_with(action_clock="event", kafka_bootstrap=None, producer_linger=0.2)
    with EmbeddedBroker() as embedded:
        views = asyncio.run(
            run_events(embedded.bootstrap, settings, get_catalog(settings.catalog), events, now)
        )
    write_dumps(dump_dir, views)
    click.echo(f"{len(events)} event(s) processed; dump written to {dump_dir}")


@main.command()
@click.argument("source", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--dump", "dump_dir", required=True, type=click.Path(path_type=Path))
@click.option("--until", "until_text", default=None, help="stop at this event time (RFC 3339)")
@click.option(
    "--now",
    "now_text",
    default=None,
    help="judge deadlines at this time (default: the latest event replayed)",
)
def replay(
    source: Path | None, dump_dir: Path, until_text: str | None, now_text: str | None
) -> None:
    """Rebuild the projections offline with the pure core: from a JSON Lines file or an archive
    directory (`shixin archive export`), or without SOURCE from the topics on
    SHIXIN_KAFKA_BOOTSTRAP (read with no consumer group)."""
    from shixin.cli.replaying import replay_with_progress
    from shixin.projections.dumps import write_dumps

    now = parse_time(now_text, "--now")
    until = parse_time(until_text, "--until")
    replayer, _ = replay_with_progress(settings_with(), source, until)
    write_dumps(dump_dir, replayer.views(now))
    click.echo(f"{replayer.events} event(s) replayed; dump written to {dump_dir}")


# --- generate ----------------------------------------------------------------------------------


@main.command()
@click.option("--debtors", type=int, default=100, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def generate(debtors: int, seed: int, out: Path | None) -> None:
    """A realistic synthetic court event history, as JSON Lines (stdout or --out)."""
    from shixin.synthetic import generate_history

    handle = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        for event in generate_history(debtors, seed):
            handle.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
    finally:
        if out:
            handle.close()
