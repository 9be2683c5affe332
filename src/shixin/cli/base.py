"""The `shixin` group and what every command shares. The CLI is the only place that prints."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console

from shixin.runtime.logging import configure_logging
from shixin.runtime.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)


def settings_with(**overrides: Any) -> Settings:
    settings = get_settings()
    return settings.model_copy(update=overrides) if overrides else settings


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))


@click.group()
@click.option("--log-level", default=None, help="debug, info, warning, error")
@click.option("--log-format", type=click.Choice(["json", "console"]), default=None)
def main(log_level: str | None, log_format: str | None) -> None:
    """shixin: the dishonest judgment debtor list, from the courts to the departments and back."""
    settings = get_settings()
    configure_logging(log_level or settings.log_level, log_format or settings.log_format)


def parse_time(text: str | None, option: str) -> Any:
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
