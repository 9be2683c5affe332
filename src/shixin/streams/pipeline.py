"""The whole live pipeline hosted in one process: what `shixin run` and `shixin demo` drive."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from shixin.domain.catalog import Catalog
from shixin.domain.events import AnyEvent, event_time
from shixin.projections import dumps
from shixin.runtime.admin import ensure_topics
from shixin.runtime.groups import commit_start_where_missing
from shixin.runtime.reader import read_topic
from shixin.runtime.settings import Settings
from shixin.schemas.dead_letter import DeadLetter
from shixin.schemas.errors import DecodeError
from shixin.schemas.model_codec import decode_model
from shixin.streams.idle import wait_idle
from shixin.streams.publish import publish_events
from shixin.streams.roles import Roles, build_roles, start_roles, stop_roles


@contextlib.asynccontextmanager
async def hosted(
    role: str,
    settings: Settings,
    bootstrap: str,
    catalog: Catalog,
    **app_options: Any,
) -> AsyncIterator[Roles]:
    """Start the apps of `role` against `bootstrap`; stop them on the way out, whatever happens."""
    await ensure_topics(bootstrap, settings)
    roles = build_roles(role, settings, bootstrap, catalog, **app_options)
    consumed = roles.consumed_topics(settings)
    # the repartition topic too, before Faust would create it, so its group starts committed
    await ensure_topics(bootstrap, settings, sorted({t for ts in consumed.values() for t in ts}))
    await commit_start_where_missing(bootstrap, settings, consumed)
    try:
        await start_roles(roles)
        yield roles
    finally:
        await stop_roles(roles)


async def read_dead_letters(bootstrap: str, settings: Settings) -> list[dict[str, Any]]:
    letters = []
    async for record in read_topic(bootstrap, settings.topic_dead_letters):
        try:
            letter = decode_model(record.value, DeadLetter)
        except (DecodeError, ValueError):
            continue
        letters.append(letter.model_dump())
    return letters


async def live_views(
    bootstrap: str, roles: Roles, settings: Settings, now: datetime | None
) -> dict[str, Any]:
    """The projections of a pipeline hosted here, as the dump files show them."""
    assert roles.court is not None
    return dumps.all_views(
        dict(roles.court.entries.items()),
        dict(roles.court.subjects.items()),
        {dept_id: dict(role.sanctions.items()) for dept_id, role in roles.departments.items()},
        await read_dead_letters(bootstrap, settings),
        now,
    )


async def run_events(
    bootstrap: str,
    settings: Settings,
    catalog: Catalog,
    events: list[AnyEvent],
    now: datetime | None = None,
) -> dict[str, Any]:
    """Publish `events` through every role, wait until all is idle, return the projections
    (deadlines judged at `now`, by default the latest event time)."""
    if now is None and events:
        now = max(event_time(e) for e in events)
    # every role but the api: `run` serves no HTTP
    async with hosted("court,sla,departments", settings, bootstrap, catalog) as roles:
        await publish_events(bootstrap, settings, events)
        await wait_idle(bootstrap, roles, settings)
        return await live_views(bootstrap, roles, settings, now)
