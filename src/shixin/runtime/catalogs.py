"""Where the data comes from: the catalog (SHIXIN_CATALOG, else the packaged one), the
deadline policy (SHIXIN_DEADLINE_POLICY: a packaged name or a path) and the holiday schedules
the calendar library does not hold yet (SHIXIN_HOLIDAY_SCHEDULES: a path)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from shixin.domain.calendar import install_schedules, parse_schedules
from shixin.domain.catalog import Catalog, load_catalog
from shixin.domain.policy import PACKAGED_POLICIES, DeadlinePolicy, load_policy
from shixin.runtime.logging import get_logger
from shixin.runtime.settings import Settings

log = get_logger(__name__)


def packaged_catalog_text() -> str:
    return (resources.files("shixin.domain") / "data" / "catalog.yaml").read_text("utf-8")


@lru_cache(maxsize=8)
def get_catalog(path: str | None = None) -> Catalog:
    text = Path(path).read_text("utf-8") if path else packaged_catalog_text()
    return load_catalog(text)


@lru_cache(maxsize=8)
def get_policy(name_or_path: str = "brief") -> DeadlinePolicy:
    if name_or_path in PACKAGED_POLICIES:
        resource = resources.files("shixin.domain") / "data" / "policies" / f"{name_or_path}.yaml"
        return load_policy(resource.read_text("utf-8"))
    return load_policy(Path(name_or_path).read_text("utf-8"))


def policy_for(settings: Settings) -> DeadlinePolicy:
    """The settings' deadline policy, its calendar given the settings' holiday schedules: what
    every role that computes deadlines, and the replay, must use."""
    use_holiday_schedules(settings.holiday_schedules)
    return get_policy(settings.deadline_policy)


def use_holiday_schedules(path: str | None) -> tuple[int, ...]:
    """Install the schedules in the file at `path` (none: only the library's); their years.

    Read at each call (a worker's start, and each role's policy): the same schedules again
    change nothing; a changed file is taken at a restart."""
    schedules = parse_schedules(Path(path).read_text("utf-8")) if path else []
    years = tuple(s.year for s in schedules)
    if install_schedules(schedules) and years:
        log.info("calendar.supplied", path=path, years=list(years))
    return years
