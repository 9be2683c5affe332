"""What auditors do: shixin audit ..."""

from __future__ import annotations

import asyncio
import json

import click

from shixin.cli.base import main, parse_time, print_json, settings_with


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

    settings = settings_with()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP to the cluster to verify")
    found = asyncio.run(
        verify(
            settings.kafka_bootstrap,
            settings,
            get_catalog(settings.catalog),
            get_policy(settings.deadline_policy),
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
