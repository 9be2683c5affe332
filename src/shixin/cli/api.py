"""The HTTP API's tokens: `shixin api token-hash`."""

from __future__ import annotations

import json
import secrets
import sys

import click

from shixin.cli.base import main


@main.group()
def api() -> None:
    """The HTTP API (served by `shixin worker --role api`)."""


@api.command("token-hash")
@click.option("--new", "new", is_flag=True, help="make a fresh random token and show it once")
@click.option("--name", default=None, help="also print the SHIXIN_API_TOKENS entry, with NAME")
@click.option("--role", default=None, help="court, auditor, operator or department:<id>")
def token_hash(new: bool, name: str | None, role: str | None) -> None:
    """Print the SHA-256 a token is configured by (the token is read from standard input).

    The settings keep only the hash: SHIXIN_API_TOKENS='[{"name": ..., "role": ...,
    "sha256": ...}]'.
    """
    from pydantic import ValidationError

    from shixin.runtime.settings import ApiToken
    from shixin.web.auth import hash_token

    if new:
        token = secrets.token_urlsafe(32)
        click.echo(f"token (shown once): {token}", err=True)
    else:
        token = sys.stdin.readline().strip()
        if not token:
            raise click.UsageError("give the token on standard input, or --new")
    digest = hash_token(token)
    if name is None and role is None:
        click.echo(digest)
        return
    try:
        entry = ApiToken(name=name or "", role=role or "", sha256=digest)
    except ValidationError as exc:
        raise click.UsageError(f"--name and --role: {exc.errors()[0]['msg']}") from exc
    click.echo(json.dumps(entry.model_dump(), ensure_ascii=False))
