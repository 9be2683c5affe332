"""What a person at a department does."""

from __future__ import annotations

import asyncio

import click

from shixin.cli.base import main, settings_with


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
    from shixin.runtime.admin import ensure_topics
    from shixin.runtime.catalogs import get_catalog
    from shixin.streams.confirmations import ConfirmationError, build_confirmation
    from shixin.streams.publish import publish_events

    settings = settings_with()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP to the cluster")
    if action == "retain" and (not legal_basis or not until):
        raise click.UsageError("retain needs --legal-basis and --until")
    try:
        event = build_confirmation(
            get_catalog(settings.catalog),
            department_id,
            subject_id,
            action,
            measures,
            at,
            legal_basis,
            until,
        )
    except ConfirmationError as exc:
        raise click.UsageError(str(exc)) from exc
    bootstrap = settings.kafka_bootstrap

    async def go() -> None:
        await ensure_topics(bootstrap, settings)
        await publish_events(bootstrap, settings, [event])

    asyncio.run(go())
    click.echo(f"{event.type} for {subject_id} by {department_id} sent ({event.event_id})")
