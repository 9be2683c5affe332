"""shixin calendar: which years the holiday calendar covers, and a schedules file checked."""

from __future__ import annotations

from typing import Any

import click

from shixin.cli.base import console, main, print_json
from shixin.runtime.settings import get_settings


def calendar_json(path: str | None) -> dict[str, Any]:
    """The calendar with the schedules at `path` (or the settings' file) installed."""
    from shixin.domain import calendar as cal
    from shixin.runtime.catalogs import use_holiday_schedules

    use_holiday_schedules(path)
    first, last = cal.covered_years()
    library = cal.library_years()
    return {
        "library": {"first": library[0], "last": library[1]},
        "supplied": [
            {
                "year": s.year,
                "notice": s.notice,
                "holidays": len(s.holidays),
                "working_days": len(s.working_days),
            }
            for s in cal.supplied_schedules()
        ],
        "covered": {"first": first, "last": last},
        "file": path,
    }


@main.command()
@click.option(
    "--file",
    "path",
    default=None,
    help="a holiday schedules file to check (default: SHIXIN_HOLIDAY_SCHEDULES)",
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def calendar(path: str | None, as_json: bool) -> None:
    """The years whose holidays and make-up working days the deadlines can count.

    A deadline running into a year not covered is recorded without a due date. Supply a year the
    calendar library does not hold yet from the State Council's notice, in a YAML file named by
    SHIXIN_HOLIDAY_SCHEDULES (every worker and the replay read the same file)."""
    from pydantic import ValidationError

    from shixin.domain.calendar import CalendarError

    path = path or get_settings().holiday_schedules
    try:
        data = calendar_json(path)
    except (OSError, ValueError, ValidationError, CalendarError) as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    if as_json:
        print_json(data)
        return
    library, covered = data["library"], data["covered"]
    console.print(f"holiday calendar library: {library['first']}-{library['last']}")
    for year in data["supplied"]:
        console.print(
            f"supplied {year['year']}: {year['holidays']} holidays, {year['working_days']} "
            f"make-up working days ({year['notice'] or 'no notice given'})"
        )
    console.print(f"deadlines can be counted through {covered['last']}-12-31")
