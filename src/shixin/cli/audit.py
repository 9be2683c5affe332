"""What auditors do: shixin audit ..."""

from __future__ import annotations

import asyncio
import json
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from shixin.cli.base import err_console, main, parse_time, print_json, settings_with

if TYPE_CHECKING:
    from shixin.audit.replay import Replay


@main.group()
def audit() -> None:
    """What auditors do: check the live state against the history, write audit reports."""


@audit.command("verify")
@click.option("--department", "departments", multiple=True, help="default: every one running")
@click.option("--now", "now_text", default=None, help="judge deadlines at this time")
@click.option("--json", "as_json", is_flag=True)
def audit_verify(departments: tuple[str, ...], now_text: str | None, as_json: bool) -> None:
    """Compare the live tables with a fresh replay of the topics; exit 1 on any difference."""
    from shixin.audit.verify import verify
    from shixin.runtime.catalogs import get_catalog, policy_for

    settings = settings_with()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP to the cluster to verify")
    found = asyncio.run(
        verify(
            settings.kafka_bootstrap,
            settings,
            get_catalog(settings.catalog),
            policy_for(settings),
            parse_time(now_text, "--now"),
            list(departments) or None,
        )
    )
    if as_json:
        print_json({"differences": found})
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


# --- report ------------------------------------------------------------------------------------


def _replay_for_report(
    source: Path | None, until: Any, subject: str | None
) -> tuple[Replay, Any, str]:
    """A finished replay of `source`, with the subject's timeline recorded if asked for."""
    from shixin.audit.timeline import SubjectTimeline
    from shixin.cli.replaying import replay_with_progress

    timeline = SubjectTimeline(subject) if subject else None
    replayer, described = replay_with_progress(settings_with(), source, until, timeline)
    return replayer, timeline, described


@audit.command("report")
@click.argument("source", required=False, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the HTML file to write; the same content goes to this path with the suffix .json "
    "(report.html -> report.json)",
)
@click.option("--until", "until_text", default=None, help="the state as known at this event time")
@click.option(
    "--now",
    "now_text",
    default=None,
    help="judge deadlines at this time (default: --until, else the latest event replayed)",
)
@click.option("--subject", default=None, help="add the timeline of this subject (ID or code)")
@click.option("--court", default=None, help="only this court's entries (court code, e.g. C360483)")
@click.option("--json", "as_json", is_flag=True, help="print what was written as JSON")
def audit_report(
    source: Path | None,
    out: Path,
    until_text: str | None,
    now_text: str | None,
    subject: str | None,
    court: str | None,
    as_json: bool,
) -> None:
    """Write an audit report: summary, SLA compliance per department and per court, time to
    lift and listings per month as charts, open and breached obligations, findings, dead
    letters, and with --subject that subject's timeline.

    The history comes from SOURCE, a JSON Lines file or an archive directory, or without SOURCE
    from the topics on SHIXIN_KAFKA_BOOTSTRAP. Two files are written, each atomically (an
    interrupted run leaves the previous files, or none): OUT, one self-contained HTML page that
    works offline, and OUT with the suffix .json, the same content as data."""
    from shixin.audit.report import report_from_replay
    from shixin.audit.report_files import json_path_for, write_report

    if out.suffix.lower() == ".json":
        raise click.BadParameter("name the HTML file (e.g. report.html)", param_hint="--out")
    now = parse_time(now_text, "--now")
    until = parse_time(until_text, "--until")
    try:
        replayer, timeline, described = _replay_for_report(source, until, subject)
        with err_console.status("writing the report") if err_console.is_terminal else nullcontext():
            content = report_from_replay(
                replayer, source=described, now=now, court=court, timeline=timeline
            )
            html_path, json_path = write_report(out, content)
    except KeyboardInterrupt:
        click.echo(f"interrupted: {out} and {json_path_for(out)} are as they were before", err=True)
        raise SystemExit(130) from None
    summary = content["summary"]
    if as_json:
        print_json(
            {"html": str(html_path), "json": str(json_path), "events": replayer.events, **summary}
        )
        return
    click.echo(
        f"{replayer.events} event(s) replayed; {summary['entries']['total']} entries, "
        f"{summary['obligations']['breached']} breached and {summary['obligations']['open']} "
        f"open obligation(s), {summary['findings']['total']} finding(s)"
    )
    click.echo(f"report written to {html_path} and {json_path}")
