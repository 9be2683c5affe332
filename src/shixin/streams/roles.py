"""Roles (DESIGN §2): build the Faust apps a role needs, start and stop them together.

`court`, `department:<id>`, `departments` (every catalog department, one app each, in one
process), `sla`, `api` (the HTTP API over read replicas of the tables; no Faust app), `all`
(everything; what the demo hosts; `shixin run` hosts every role but the api).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import faust

from shixin.consumers.department import DepartmentRole
from shixin.domain.catalog import Catalog
from shixin.runtime.catalogs import use_holiday_schedules
from shixin.runtime.faust_threads import stop_app
from shixin.runtime.logging import get_logger, quiet_libraries
from shixin.runtime.settings import Settings
from shixin.streams.court import CourtRole
from shixin.streams.sla import SlaRole
from shixin.streams.topics import facets_topic_name
from shixin.web.role import ApiRole

log = get_logger(__name__)


class UnknownRole(ValueError):
    pass


@dataclass
class Roles:
    court: CourtRole | None = None
    departments: dict[str, DepartmentRole] = field(default_factory=dict)
    sla: SlaRole | None = None
    api: ApiRole | None = None
    stop_abandoned: bool = False  # a stop left tasks or threads running (stop_roles)

    @property
    def apps(self) -> list[faust.App]:
        apps = [self.court.app] if self.court else []
        apps += [self.sla.app] if self.sla else []
        return apps + [d.app for d in self.departments.values()]

    def consumed_topics(self, settings: Settings) -> dict[str, list[str]]:
        """app id -> the topics its agents read (what `run` waits on)."""
        out: dict[str, list[str]] = {}
        if self.court:
            out[self.court.app.conf.id] = [settings.topic_court_events, facets_topic_name(settings)]
        if self.sla:
            out[self.sla.app.conf.id] = [settings.topic_sla_events]
        for dept in self.departments.values():
            out[dept.app.conf.id] = [settings.topic_subject_status, settings.topic_confirmations]
        return out


def build_roles(
    role: str,
    settings: Settings,
    bootstrap: str,
    catalog: Catalog,
    **app_options: Any,
) -> Roles:
    """`role` may also list several roles, comma-separated (``court,department:rail``)."""
    # every role of the process, deadlines or not, with the same calendar (its /metrics says
    # which years it covers); a wrong schedules file stops the process here
    use_holiday_schedules(settings.holiday_schedules)
    roles = Roles()
    wanted: list[str] = []
    for part in (p.strip() for p in role.split(",")):
        if part in ("court", "all"):
            roles.court = CourtRole(settings, bootstrap, **app_options)
        if part in ("sla", "all"):
            roles.sla = SlaRole(settings, bootstrap, **app_options)
        if part in ("api", "all"):
            roles.api = ApiRole(settings, bootstrap, catalog)
        if part in ("departments", "all"):
            wanted += [d.id for d in catalog.departments]
        elif part.startswith("department:"):
            wanted.append(part.split(":", 1)[1])
        elif part not in ("court", "sla", "api"):
            raise UnknownRole(
                f"unknown role {part!r}: court, sla, api, department:<id>, departments or all"
            )
    for dept_id in dict.fromkeys(wanted):
        department = catalog.department_by_id.get(dept_id)
        if department is None:
            raise UnknownRole(f"unknown department {dept_id!r}; `shixin catalog` lists them")
        roles.departments[dept_id] = DepartmentRole(
            settings, bootstrap, catalog, department, **app_options
        )
    return roles


async def start_roles(roles: Roles) -> None:
    # every start settled before a failure is raised: the caller's stop then meets no app still
    # starting (whose consumer thread would begin after its stop and outlive the process)
    started = await asyncio.gather(*(app.start() for app in roles.apps), return_exceptions=True)
    for result in started:
        if isinstance(result, BaseException):
            raise result
    quiet_libraries()  # Faust turns the root logger up while starting
    if roles.api is not None:  # after the apps: their changelog topics exist by now
        await roles.api.start()
    log.info("roles.started", apps=[app.conf.id for app in roles.apps])


async def stop_roles(roles: Roles) -> None:
    if roles.api is not None:
        try:
            await asyncio.wait_for(roles.api.stop(), timeout=15)
        except (TimeoutError, Exception) as exc:
            log.warning("roles.stop_failed", app="api", error=repr(exc))
    # together: one after another, the demo's 45 apps took 18 s to stop, and a worker has 60 s
    # between SIGTERM and SIGKILL
    results = await asyncio.gather(*(stop_app(app) for app in roles.apps))
    roles.stop_abandoned = "abandoned" in results
    log.info("roles.stopped")
