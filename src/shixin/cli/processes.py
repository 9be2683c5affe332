"""Long-running commands: broker, worker, demo."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from typing import Any

import click
from rich.table import Table

from shixin.cli.base import console, main, settings_with
from shixin.runtime.settings import Settings


@main.command()
def broker() -> None:
    """Start the embedded broker alone and print its bootstrap address; Ctrl-C stops it."""
    from shixin.runtime.broker import EmbeddedBroker

    with EmbeddedBroker() as embedded:
        click.echo(embedded.bootstrap, nl=True)
        sys.stdout.flush()
        _wait_for_signal()


def _wait_for_signal() -> None:
    stop = asyncio.Event()

    async def waiter() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()

    asyncio.run(waiter())


async def _serve(role: str, settings: Settings, on_started: Any = None) -> None:
    from shixin.runtime.broker import broker_bootstrap
    from shixin.runtime.catalogs import get_catalog
    from shixin.streams.pipeline import hosted

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with broker_bootstrap(settings.kafka_bootstrap) as (bootstrap, _embedded):
        async with hosted(role, settings, bootstrap, get_catalog(settings.catalog)) as roles:
            health = None
            if roles.api is None:  # the api role serves its own health on this port
                from shixin.web.health import HealthServer

                health = HealthServer(roles, settings.web_host, settings.web_port)
                await health.start()
            if on_started is not None:
                task = asyncio.create_task(on_started(bootstrap, roles, stop))
            await stop.wait()
            if on_started is not None:
                task.cancel()
                with contextlib_suppress():
                    await task
            if health is not None:
                await health.stop()
    if roles.stop_abandoned:
        # Faust tasks that ignore cancellation, or a thread that would not end: asyncio.run
        # and the interpreter would wait for them for ever
        _exit_now(1)


def _exit_now(status: int) -> None:
    from shixin.runtime.logging import get_logger

    get_logger(__name__).error("worker.exit_forced", status=status)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


class contextlib_suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


@main.command()
@click.option(
    "--role",
    required=True,
    help="court, sla, api, department:<id>, departments or all (comma-separated)",
)
def worker(role: str) -> None:
    """Run one role against SHIXIN_KAFKA_BOOTSTRAP (or the embedded broker)."""
    asyncio.run(_serve(role, settings_with()))


@main.command()
@click.option("--rate", type=float, default=100.0, show_default=True, help="court events/s")
@click.option("--debtors", type=int, default=2_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--duration", type=float, default=None, help="stop by itself after N seconds")
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON lines")
def demo(rate: float, debtors: int, seed: int, duration: float | None, as_json: bool) -> None:
    """Embedded broker + every role + a synthetic court feed, with a live summary."""
    from rich.live import Live

    from shixin.streams.demo import feed_court, report_loop

    settings, token = _demo_settings()
    dashboard = f"http://{settings.web_host}:{settings.web_port}/"
    if token:  # the fragment never reaches a server log; the page keeps it for its requests
        dashboard += f"#token={token}"
    live = (
        Live(console=console, auto_refresh=False) if console.is_terminal and not as_json else None
    )

    def show(data: dict[str, Any]) -> None:
        if live is None:
            click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True), nl=True)
            sys.stdout.flush()
        else:
            live.update(_summary_table(data), refresh=True)

    async def on_started(bootstrap: str, roles: Any, stop: asyncio.Event) -> None:
        import time

        started = time.monotonic()
        console.print(
            f"shixin demo: broker {bootstrap}, {len(roles.apps)} apps, "
            f"dashboard {dashboard} - Ctrl-C stops"
            if live is not None
            else "",
            end="\n" if live is not None else "",
        )
        tasks = [
            asyncio.create_task(feed_court(bootstrap, settings, debtors, seed, rate)),
            asyncio.create_task(report_loop(roles, started, show)),
        ]
        try:
            if duration is not None:
                await asyncio.sleep(duration)
                stop.set()
            await asyncio.Event().wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    if live is not None:
        with live:
            asyncio.run(_serve("all", settings, on_started))
    else:
        click.echo(f"dashboard {dashboard}", err=True)
        asyncio.run(_serve("all", settings, on_started))
    click.echo("demo stopped")


def _demo_settings() -> tuple[Settings, str | None]:
    """The demo's settings; with no API tokens configured, a fresh operator token for the
    dashboard (returned, so the demo can show it once)."""
    import secrets

    from shixin.runtime.settings import ApiToken
    from shixin.web.auth import hash_token

    settings = settings_with()
    if settings.api_tokens:
        return settings, None
    token = secrets.token_urlsafe(24)
    demo = ApiToken(name="demo-operator", role="operator", sha256=hash_token(token))
    return settings_with(api_tokens=[demo]), token


def _summary_table(data: dict[str, Any]) -> Table:
    table = Table(title="shixin demo", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("uptime (s)", str(data["uptime_s"]))
    table.add_row("court events published", f"{data['published']} (+{data['published_bad']} bad)")
    for state, count in sorted(data["entries"].items()):
        table.add_row(f"entries {state}", str(count))
    table.add_row("sanctionable subjects", str(data["sanctionable_subjects"]))
    for state, count in sorted(data["department_sanctions"].items()):
        table.add_row(f"department sanctions {state}", str(count))
    table.add_row(
        "feedback: applied / lifted", f"{data['feedback_applied']} / {data['feedback_lifted']}"
    )
    table.add_row("dead letters", str(data["dead_letters"]))
    first = data["first_sanction_after_s"]
    table.add_row("first sanction applied after (s)", "-" if first is None else str(first))
    return table
