"""The `shixin` command (DESIGN §7). The only place that prints."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from shixin.runtime.logging import configure_logging
from shixin.runtime.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)


def _settings(**overrides: Any) -> Settings:
    settings = get_settings()
    return settings.model_copy(update=overrides) if overrides else settings


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))


@click.group()
@click.option("--log-level", default=None, help="debug, info, warning, error")
@click.option("--log-format", type=click.Choice(["json", "console"]), default=None)
def main(log_level: str | None, log_format: str | None) -> None:
    """shixin: the dishonest judgment debtor list, from the courts to the departments and back."""
    settings = get_settings()
    configure_logging(log_level or settings.log_level, log_format or settings.log_format)


# --- catalog ---------------------------------------------------------------------------------


def catalog_json() -> dict[str, Any]:
    from shixin.runtime.catalogs import get_catalog

    catalog = get_catalog(get_settings().catalog)
    return {
        "version": catalog.version,
        "measures": [
            {
                "id": m.id,
                "item": m.item,
                "category": m.category,
                "title_zh": m.title_zh,
                "title_en": m.title_en,
                "departments": list(m.departments),
                "subject_kinds": list(m.subject_kinds),
                "related_roles": list(m.related_roles),
                "mode": m.mode,
                "execution": catalog.measure_execution(m),
                "actions": list(m.actions),
                "lift_days": m.lift_days,
            }
            for m in catalog.measures
        ],
        "departments": [
            {"id": d.id, "name_zh": d.name_zh, "name_en": d.name_en, "execution": d.execution}
            for d in catalog.departments
        ],
    }


@main.command()
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def catalog(as_json: bool) -> None:
    """The sanction catalog: every measure, its departments and whom it binds."""
    data = catalog_json()
    if as_json:
        _print_json(data)
        return
    table = Table(title=f"sanction catalog {data['version']}", show_lines=False)
    for column in ("item", "id", "title", "departments", "binds", "mode", "actions"):
        table.add_column(column, overflow="fold")
    for m in data["measures"]:
        binds = "/".join(m["subject_kinds"])
        if m["related_roles"]:
            binds += " + " + ",".join(m["related_roles"])
        table.add_row(
            m["item"],
            m["id"],
            f"{m['title_zh']}\n{m['title_en']}",
            ", ".join(m["departments"]),
            binds,
            f"{m['mode']} ({m['execution']})",
            "\n".join(m["actions"]),
        )
    # a pipe gets a wide table rather than rich's 80 columns
    out = console if console.is_terminal else Console(width=220)
    out.print(table)
    out.print(
        f"{len(data['measures'])} measures, {len(data['departments'])} departments, "
        f"{len({m['category'] for m in data['measures']})} categories"
    )


# --- broker and workers ------------------------------------------------------------------------


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


async def _serve(role: str, settings: Settings, on_started: Any = None, web: bool = False) -> None:
    from shixin.runtime.broker import broker_bootstrap
    from shixin.runtime.catalogs import get_catalog
    from shixin.streams.pipeline import hosted

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with broker_bootstrap(settings.kafka_bootstrap) as (bootstrap, _embedded):
        async with hosted(role, settings, bootstrap, get_catalog(settings.catalog)) as roles:
            if on_started is not None:
                task = asyncio.create_task(on_started(bootstrap, roles, stop))
            await stop.wait()
            if on_started is not None:
                task.cancel()
                with contextlib_suppress():
                    await task


class contextlib_suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


@main.command()
@click.option(
    "--role",
    required=True,
    help="court, sla, department:<id>, departments or all (comma-separated)",
)
def worker(role: str) -> None:
    """Run one role against SHIXIN_KAFKA_BOOTSTRAP (or the embedded broker)."""
    asyncio.run(_serve(role, _settings()))


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

    settings = _settings()
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
            f"web http://{settings.web_host}:{settings.web_port}/ - Ctrl-C stops"
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
            asyncio.run(_serve("all", settings, on_started, web=True))
    else:
        asyncio.run(_serve("all", settings, on_started, web=True))
    click.echo("demo stopped")


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
    settings = _settings()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP (e.g. from `shixin broker`)")

    async def go() -> int:
        assert settings.kafka_bootstrap
        await ensure_topics(settings.kafka_bootstrap, settings)
        return await publish_events(settings.kafka_bootstrap, settings, events)

    count = asyncio.run(go())
    if as_json:
        _print_json({"published": count})
    else:
        click.echo(f"published {count} event(s)")


def _parse_time(text: str | None, option: str) -> Any:
    from datetime import datetime

    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not an RFC 3339 time", param_hint=option) from exc
    if value.tzinfo is None:
        raise click.BadParameter(f"{text!r} needs an offset (e.g. +08:00)", param_hint=option)
    return value


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

    now = _parse_time(now_text, "--now")
    events = _read_events_or_exit(file)
    # event clock: a replayed history is judged as it happened; a longer linger: throughput
    settings = _settings(action_clock="event", kafka_bootstrap=None, producer_linger=0.2)
    with EmbeddedBroker() as embedded:
        views = asyncio.run(
            run_events(embedded.bootstrap, settings, get_catalog(settings.catalog), events, now)
        )
    write_dumps(dump_dir, views)
    click.echo(f"{len(events)} event(s) processed; dump written to {dump_dir}")


@main.command()
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--dump", "dump_dir", required=True, type=click.Path(path_type=Path))
@click.option("--until", "until_text", default=None, help="stop at this event time (RFC 3339)")
@click.option(
    "--now",
    "now_text",
    default=None,
    help="judge deadlines at this time (default: the latest event replayed)",
)
def replay(file: Path | None, dump_dir: Path, until_text: str | None, now_text: str | None) -> None:
    """Rebuild the projections offline with the pure core: from a JSON Lines FILE, or without
    one from the topics on SHIXIN_KAFKA_BOOTSTRAP (read with no consumer group)."""
    from shixin.audit.from_topics import replay_topics
    from shixin.audit.replay import Replay
    from shixin.projections.dumps import write_dumps
    from shixin.runtime.catalogs import get_catalog, get_policy

    now = _parse_time(now_text, "--now")
    until = _parse_time(until_text, "--until")
    settings = _settings()
    replayer = Replay(settings, get_catalog(settings.catalog), get_policy(settings.deadline_policy))
    replayer.until = until
    if file is not None:
        with file.open(encoding="utf-8") as handle:
            replayer.feed_lines(handle)
    elif settings.kafka_bootstrap:
        asyncio.run(replay_topics(replayer, settings.kafka_bootstrap, until))
    else:
        raise click.UsageError("give a FILE, or set SHIXIN_KAFKA_BOOTSTRAP to replay the topics")
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


# --- query -------------------------------------------------------------------------------------


@main.group()
def query() -> None:
    """Read models, from the tables' changelogs on the broker."""


@query.command("subject")
@click.argument("subject_id")
@click.option("--json", "as_json", is_flag=True)
def query_subject(subject_id: str, as_json: bool) -> None:
    """A subject: the listed entries naming it, and every department's sanctions."""
    from shixin.projections.queries import subject_view

    settings = _settings()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP to the cluster to query")
    view = asyncio.run(subject_view(settings.kafka_bootstrap, settings, subject_id))
    if as_json:
        _print_json(view)
        return
    if view["subject"] is None:
        click.echo(f"{subject_id}: not known")
        raise SystemExit(1)
    subject = view["subject"]
    click.echo(
        f"{subject_id} ({subject['kind']}): "
        + ("sanctionable" if subject["sanctionable"] else "not sanctionable")
    )
    for entry in subject["entries"]:
        click.echo(
            f"  entry {entry['entry_id']} {entry['case_no']} {entry['court_name']}: "
            f"{'listed' if entry['listed'] else 'not listed'} as {', '.join(entry['roles'])}"
        )
    for dept, row in sorted(view["sanctions"].items()):
        click.echo(f"  {dept}: {row['state']} {', '.join(row['measures'])}")


@query.command("obligations")
@click.option("--status", type=click.Choice(["open", "met", "missed", "breached"]), default=None)
@click.option("--department", default=None)
@click.option("--court", default=None)
@click.option("--now", "now_text", default=None, help="judge at this time (default: now)")
@click.option("--json", "as_json", is_flag=True)
def query_obligations(
    status: str | None,
    department: str | None,
    court: str | None,
    now_text: str | None,
    as_json: bool,
) -> None:
    """Obligations (deadlines) the sla role holds, judged now."""
    from datetime import datetime

    from shixin.projections.dumps import cst
    from shixin.projections.sla_report import monitored_obligations, select

    settings = _settings()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP to the cluster to query")
    now = _parse_time(now_text, "--now") or datetime.now().astimezone()
    found = select(
        asyncio.run(monitored_obligations(settings.kafka_bootstrap, settings)),
        now,
        status,
        department,
        court,
    )
    rows = [
        {
            **o.model_dump(mode="json"),
            "opened_at": cst(o.opened_at),
            "closed_at": cst(o.closed_at),
            "verdict": o.judged(now),
        }
        for o in found
    ]
    if as_json:
        _print_json(rows)
        return
    table = Table(title=f"{len(rows)} obligation(s)")
    for column in ("id", "kind", "due_on", "closed_at", "verdict"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["id"], row["kind"], row["due_on"] or "-", row["closed_at"] or "-", row["verdict"]
        )
    (console if console.is_terminal else Console(width=200)).print(table)


@query.command("sla")
@click.option("--now", "now_text", default=None, help="judge at this time (default: now)")
@click.option("--json", "as_json", is_flag=True)
def query_sla(now_text: str | None, as_json: bool) -> None:
    """SLA summary per department and court: on time, late, breached, open; time to lift."""
    from datetime import datetime

    from shixin.projections.sla_report import monitored_obligations, summary

    settings = _settings()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP to the cluster to query")
    now = _parse_time(now_text, "--now") or datetime.now().astimezone()
    data = summary(asyncio.run(monitored_obligations(settings.kafka_bootstrap, settings)), now)
    if as_json:
        _print_json(data)
        return
    for group in ("departments", "courts"):
        table = Table(title=group)
        for column in ("id", "met", "missed", "breached", "open", "lift h median", "lift h p95"):
            table.add_column(column)
        for key, row in sorted(data[group].items()):
            table.add_row(
                key,
                *(str(row[k]) for k in ("met", "missed", "breached", "open")),
                str(row.get("lift_hours_median", "-")),
                str(row.get("lift_hours_p95", "-")),
            )
        (console if console.is_terminal else Console(width=200)).print(table)


@main.command("check")
@click.argument("subject_id")
@click.argument("action")
@click.option("--json", "as_json", is_flag=True)
def check_command(subject_id: str, action: str, as_json: bool) -> None:
    """Interception check: may SUBJECT_ID do ACTION (e.g. air.ticket) now? Exit 3 if blocked."""
    from datetime import datetime

    from shixin.domain.checks import UnknownAction
    from shixin.domain.deadlines import local_date
    from shixin.projections.queries import check_subject

    settings = _settings()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP to the cluster to query")
    today = local_date(datetime.now().astimezone())
    try:
        result = asyncio.run(
            check_subject(settings.kafka_bootstrap, settings, subject_id, action, today)
        )
    except UnknownAction as exc:
        raise click.UsageError(str(exc)) from exc
    if as_json:
        _print_json(result.model_dump(mode="json"))
    elif result.allowed:
        click.echo(f"{subject_id} {action}: allowed")
    else:
        click.echo(f"{subject_id} {action}: BLOCKED")
        for block in result.blocks:
            cases = "; ".join(f"{e.case_no} {e.court_name} ({e.entry_id})" for e in block.entries)
            click.echo(f"  {block.measure} ({block.department}, {block.reason}) {cases}")
    raise SystemExit(0 if result.allowed else 3)


@main.group()
def department() -> None:
    """What a person at a department does."""


@department.command("confirm")
@click.option("--department", "department_id", required=True)
@click.option("--subject", "subject_id", required=True)
@click.option("--action", type=click.Choice(["apply", "lift", "retain"]), required=True)
@click.option("--measure", "measures", multiple=True, help="default: every pending measure")
@click.option("--at", "at", default=None, help="when it was done (RFC 3339); default: now")
@click.option("--legal-basis", default=None, help="retain: the law that allows keeping it")
@click.option("--until", default=None, help="retain: the date it ends (YYYY-MM-DD)")
def department_confirm(
    department_id: str,
    subject_id: str,
    action: str,
    measures: tuple[str, ...],
    at: str | None,
    legal_basis: str | None,
    until: str | None,
) -> None:
    """A person confirms a manual department's action (or keeps a measure, with a legal basis)."""
    import uuid
    from datetime import datetime

    from pydantic import ValidationError

    from shixin.domain.events import SANCTION_EVENT_ADAPTER
    from shixin.domain.reasons import describe_validation_error
    from shixin.runtime.admin import ensure_topics
    from shixin.runtime.catalogs import get_catalog
    from shixin.streams.publish import publish_events

    settings = _settings()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP to the cluster")
    if department_id not in get_catalog(settings.catalog).department_by_id:
        raise click.UsageError(f"unknown department {department_id!r}")
    raw: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "type": {"apply": "SanctionsApplied", "lift": "SanctionsLifted"}.get(
            action, "SanctionsRetained"
        ),
        "department": department_id,
        "subject_id": subject_id,
        "measures": list(measures),
        "at": at or datetime.now().astimezone().isoformat(),
        "origin": "person",
    }
    if action == "retain":
        if not legal_basis or not until:
            raise click.UsageError("retain needs --legal-basis and --until")
        raw.update(legal_basis=legal_basis, until=until)
    try:
        event = SANCTION_EVENT_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        raise click.UsageError(describe_validation_error(exc, raw)) from exc
    bootstrap = settings.kafka_bootstrap

    async def go() -> None:
        await ensure_topics(bootstrap, settings)
        await publish_events(bootstrap, settings, [event])

    asyncio.run(go())
    click.echo(f"{raw['type']} for {subject_id} by {department_id} sent ({raw['event_id']})")


@main.group()
def audit() -> None:
    """What auditors do: check the live state against the history."""


@audit.command("verify")
@click.option("--department", "departments", multiple=True, help="default: every one running")
@click.option("--now", "now_text", default=None, help="judge deadlines at this time")
@click.option("--json", "as_json", is_flag=True)
def audit_verify(departments: tuple[str, ...], now_text: str | None, as_json: bool) -> None:
    """Compare the live tables with a fresh replay of the topics; exit 1 on any difference."""
    from shixin.audit.verify import verify
    from shixin.runtime.catalogs import get_catalog, get_policy

    settings = _settings()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP to the cluster to verify")
    found = asyncio.run(
        verify(
            settings.kafka_bootstrap,
            settings,
            get_catalog(settings.catalog),
            get_policy(settings.deadline_policy),
            _parse_time(now_text, "--now"),
            list(departments) or None,
        )
    )
    if as_json:
        _print_json({"differences": found})
    elif not found:
        click.echo("no difference: the live tables agree with a replay of the topics")
    else:
        for diff in found:
            click.echo(
                f"{diff['view']} {diff['key']}: live {json.dumps(diff['live'], ensure_ascii=False)}"
                f" / replay {json.dumps(diff['replay'], ensure_ascii=False)}"
            )
        click.echo(f"{len(found)} difference(s)")
    raise SystemExit(1 if found else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
