"""Read models: shixin query ... and shixin check."""

from __future__ import annotations

import asyncio

import click
from rich.console import Console
from rich.table import Table

from shixin.cli.base import console, main, parse_time, print_json, settings_with

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

    settings = settings_with()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP to the cluster to query")
    view = asyncio.run(subject_view(settings.kafka_bootstrap, settings, subject_id))
    if as_json:
        print_json(view)
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

    settings = settings_with()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP to the cluster to query")
    now = parse_time(now_text, "--now") or datetime.now().astimezone()
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
        print_json(rows)
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

    settings = settings_with()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP to the cluster to query")
    now = parse_time(now_text, "--now") or datetime.now().astimezone()
    data = summary(asyncio.run(monitored_obligations(settings.kafka_bootstrap, settings)), now)
    if as_json:
        print_json(data)
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

    settings = settings_with()
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
        print_json(result.model_dump(mode="json"))
    elif result.allowed:
        click.echo(f"{subject_id} {action}: allowed")
    else:
        click.echo(f"{subject_id} {action}: BLOCKED")
        for block in result.blocks:
            cases = "; ".join(f"{e.case_no} {e.court_name} ({e.entry_id})" for e in block.entries)
            click.echo(f"  {block.measure} ({block.department}, {block.reason}) {cases}")
    raise SystemExit(0 if result.allowed else 3)
