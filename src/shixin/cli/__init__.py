"""The `shixin` command (DESIGN §7), one module per group of commands."""

from shixin.cli import api as _api  # noqa: F401  (registers `shixin api`)
from shixin.cli import archive, audit, calendar, catalog, department, history, processes, queries
from shixin.cli.base import main

__all__ = [
    "archive",
    "audit",
    "calendar",
    "catalog",
    "department",
    "history",
    "main",
    "processes",
    "queries",
]
