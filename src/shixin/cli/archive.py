"""shixin archive: the topics to and from Avro object container files, and their verification."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shixin.cli.base import err_console, main, print_json, settings_with


@contextmanager
def _progress(total: int | None = None) -> Iterator[Callable[[str, int], None]]:
    """A rich progress bar on a terminal's stderr; nothing when stderr is not a terminal."""
    if not err_console.is_terminal:

        def nothing(topic: str, count: int) -> None:
            return None

        yield nothing
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("records", total=total)

        def advance(topic: str, count: int) -> None:
            bar.update(task, advance=count, description=topic)

        yield advance


def _bootstrap() -> str:
    settings = settings_with()
    if not settings.kafka_bootstrap:
        raise click.UsageError("set SHIXIN_KAFKA_BOOTSTRAP to the cluster")
    return settings.kafka_bootstrap


@main.group()
def archive() -> None:
    """The deployment's topics to and from Avro object container files (one per topic and day),
    chained by SHA-256 so any edit, deletion or reordering is found."""


@archive.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def archive_export(directory: Path, as_json: bool) -> None:
    """Write every topic of the deployment and its consumer groups' offsets to DIRECTORY."""
    from shixin.audit.archive import ArchiveError, export_archive
    from shixin.audit.archive_format import archive_head

    bootstrap = _bootstrap()
    try:
        with _progress() as advance:
            manifest = asyncio.run(export_archive(bootstrap, settings_with(), directory, advance))
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    records = sum(sum(t["records"].values()) for t in manifest["topics"].values())
    head = archive_head(manifest)
    if as_json:
        print_json({"path": str(directory), "records": records, "head": head})
    else:
        click.echo(f"{records} record(s) of {len(manifest['topics'])} topic(s) in {directory}")
        click.echo(f"archive head {head} (record it elsewhere: `archive verify --head` checks it)")


@archive.command("verify")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--head", "expected_head", default=None, help="the head recorded at export")
@click.option("--json", "as_json", is_flag=True)
def archive_verify(directory: Path, expected_head: str | None, as_json: bool) -> None:
    """Check every file and every record's link; name what was edited, removed or moved.
    Exit 1 on any problem."""
    from shixin.audit.archive import verify_archive

    verdict = verify_archive(directory, expected_head)
    if as_json:
        print_json({"head": verdict.head, "records": verdict.records, "problems": verdict.problems})
    else:
        for problem in verdict.problems:
            click.echo(problem)
        if verdict.ok:
            click.echo(f"{verdict.records} record(s) verified; archive head {verdict.head}")
        else:
            click.echo(f"{len(verdict.problems)} problem(s) in {directory}")
    raise SystemExit(0 if verdict.ok else 1)


@archive.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def archive_import(directory: Path) -> None:
    """Restore an archive into a broker that does not hold these topics yet (or holds them
    empty): every record at its old partition and offset, and the groups' offsets."""
    from shixin.audit.archive import ArchiveError, import_archive, verify_archive

    bootstrap = _bootstrap()
    verdict = verify_archive(directory)
    try:
        with _progress(verdict.records) as advance:
            asyncio.run(import_archive(directory, bootstrap, settings_with(), advance))
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{verdict.records} record(s) imported from {directory}")
