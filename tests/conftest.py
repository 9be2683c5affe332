"""Shared fixtures. One broker per test session, in this order (DESIGN §6):
SHIXIN_KAFKA_BOOTSTRAP if set; Apache Kafka in a container (testcontainers, the apache/kafka
image) if a Docker engine answers; else the
embedded broker. Every pipeline gets its own topic and app-id prefix, so tests share the broker
without sharing state."""

from __future__ import annotations

import asyncio
import concurrent.futures.thread
import gc
import os
import sys
import tempfile
import threading
import traceback
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from shixin.runtime.catalogs import get_catalog
from shixin.runtime.logging import configure_logging
from shixin.runtime.settings import Settings

configure_logging("warning", "console")

# The suite is the landing gate: each property test draws the same cases every run, so a run
# fails only on what the change did. `SHIXIN_TEST_HYPOTHESIS=explore` draws fresh ones (with
# `SHIXIN_TEST_API_EXPLORE=N` for schemathesis' count): run it before trusting a new property.
hypothesis_settings.register_profile("gate", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False, database=None)
hypothesis_settings.load_profile(os.environ.get("SHIXIN_TEST_HYPOTHESIS", "gate"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """A test (set-up included) still running after 280 s, just before pytest-timeout's 300 s,
    leaves what every asyncio task awaits in /tmp/shixin-hang-<pid>.txt: the timeout's own dump
    shows only the event loop waiting."""
    watchdog = threading.Timer(280, _dump_tasks, args=(item.nodeid,))
    watchdog.daemon = True
    watchdog.start()
    before = set(threading.enumerate())
    try:
        yield
    finally:
        watchdog.cancel()
        for thread in set(threading.enumerate()) - before:
            if not thread.daemon:
                _thread_origins[thread] = item.nodeid


@pytest.fixture(scope="session", autouse=True)
async def _apps_stopped() -> AsyncIterator[None]:
    """An app a test left running is stopped before the session's event loop closes: closing
    the loop cancels its tasks and waits for them, and Faust's wait for unacknowledged
    messages swallows cancellation (the session would wait for ever, pytest-timeout ending it
    with an error on whichever test ran last)."""
    yield
    import faust

    from shixin.runtime.faust_threads import stop_app

    for app in [o for o in gc.get_objects() if isinstance(o, faust.App)]:
        if app._started.is_set() and not app._stopped.is_set():
            warnings.warn(f"app {app.conf.id!r} left running; stopping it", stacklevel=1)
            await stop_app(app, timeout=5)


# non-daemon threads -> the test (set-up included) during which they started
_thread_origins: dict[threading.Thread, str] = {}


def _left_running() -> list[threading.Thread]:
    """Threads the interpreter would wait for at exit (an executor's idle workers are told to
    end then: not these)."""
    return [
        t
        for t in threading.enumerate()
        if t is not threading.main_thread()
        and not t.daemon
        and t.is_alive()
        and getattr(t, "_target", None) is not concurrent.futures.thread._worker
    ]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A thread still running once every test and fixture ended is named, with the test that
    started it, and ended: a non-daemon one (Faust's consumer thread) kept CI's test process
    alive for an hour after the last test. Every app stops through `stop_app`, which ends its
    threads, so this is a warning, not a failure: the tests' verdict stands."""
    left = _left_running()
    if not left:
        return
    from mode.threads import WorkerThread

    from shixin.runtime.faust_threads import end_threads

    for thread in left:
        origin = _thread_origins.get(thread, "before the first test")
        print(f"\nWARNING thread {thread.name!r} left running by {origin}", file=sys.__stderr__)
    asyncio.run(end_threads([t for t in left if isinstance(t, WorkerThread)]))
    session.config._shixin_exitstatus = session.exitstatus  # type: ignore[attr-defined]


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """The last resort: the interpreter would wait for these threads for ever."""
    left = _left_running()
    if left:
        print(f"\nexiting past threads that would not end: {left}", file=sys.__stderr__)
        sys.__stderr__.flush()
        sys.__stdout__.flush()
        os._exit(int(getattr(config, "_shixin_exitstatus", pytest.ExitCode.TESTS_FAILED)))


def _dump_tasks(nodeid: str) -> None:
    lines = [f"{nodeid} still running after 280 s; its asyncio tasks:"]
    for task in list(asyncio.tasks._all_tasks):  # type: ignore[attr-defined]
        if task.done():
            continue
        lines.append(f"\n{task!r}")
        for frame in task.get_stack(limit=12):
            lines += traceback.format_stack(frame, limit=1)
    dump = Path(tempfile.gettempdir()) / f"shixin-hang-{os.getpid()}.txt"
    dump.write_text("\n".join(lines))
    print(f"\n{nodeid}: task dump in {dump}", file=sys.__stderr__)


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def bootstrap() -> Iterator[str]:
    configured = os.environ.get("SHIXIN_KAFKA_BOOTSTRAP")
    if configured:
        yield configured
        return
    if _docker_answers():
        # the official Apache Kafka image, as deploy/ runs it
        from tests.kafka.containers import ApacheKafka

        with ApacheKafka() as kafka:
            yield kafka.bootstrap
        return
    from shixin.runtime.broker import EmbeddedBroker

    with EmbeddedBroker() as broker:
        yield broker.bootstrap


def isolated_settings(**overrides: object) -> Settings:
    """Settings with topics and app ids of their own."""
    # unique even if this module is imported twice (as `conftest` and as `tests.conftest`)
    prefix = f"t{uuid.uuid4().hex[:10]}"
    values: dict[str, object] = {
        "app_prefix": prefix,
        # every topic of its own, whatever topics the settings grow
        **{
            name: f"{prefix}.{field.default}"
            for name, field in Settings.model_fields.items()
            if name.startswith("topic_")
        },
        "partitions": 4,
        "action_clock": "event",
        "session_timeout": 3.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def catalog():  # type: ignore[no-untyped-def]
    return get_catalog()


@pytest.fixture(scope="module")
async def pipeline(bootstrap: str, catalog) -> AsyncIterator[tuple[Settings, object]]:  # type: ignore[no-untyped-def]
    """The court role and a few departments (automatic and manual), started on the broker."""
    from shixin.streams.pipeline import hosted

    settings = isolated_settings()
    role = "court,department:aviation,department:rail,department:education,department:immigration"
    async with hosted(role, settings, bootstrap, catalog) as roles:
        yield settings, roles


def settings_env(settings: Settings, bootstrap: str) -> dict[str, str]:
    """The environment that gives a `shixin` subprocess these settings."""
    env = {"SHIXIN_KAFKA_BOOTSTRAP": bootstrap}
    topics = [f for f in Settings.model_fields if f.startswith("topic_")]
    for name in ("app_prefix", "partitions", "action_clock", *topics):
        env[f"SHIXIN_{name.upper()}"] = str(getattr(settings, name))
    return env
