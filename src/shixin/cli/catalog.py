"""shixin catalog: the sanction catalog."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table

from shixin.cli.base import console, main, print_json
from shixin.runtime.settings import get_settings


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
        print_json(data)
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
