"""An app whose stop does not finish still leaves no thread behind: mode starts the consumer's
thread as a non-daemon thread, and one left running kept its process (a worker after SIGTERM, a
test session) alive for ever, retrying a broker long gone."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from shixin.runtime.faust_threads import app_threads, stop_app
from shixin.streams.app import make_app
from tests.conftest import isolated_settings
from tests.integration.helpers import app_on_raw_topic


async def _ignoring_cancellation_until(let_go: asyncio.Event) -> None:
    """Wait for `let_go`, swallowing every cancellation meanwhile (what Faust's wait for
    unacknowledged messages does)."""
    while not let_go.is_set():
        try:
            await let_go.wait()
        except asyncio.CancelledError:
            continue


async def test_an_app_whose_stop_times_out_leaves_no_thread_running(bootstrap):
    app, topic, name = await app_on_raw_topic("stubborn", bootstrap)
    busy, let_go = asyncio.Event(), asyncio.Event()

    @app.agent(topic)
    async def stubborn(stream):  # type: ignore[no-untyped-def]
        async for _ in stream:
            busy.set()
            await _ignoring_cancellation_until(let_go)  # the stop waits for this message

    await app.start()
    try:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(name, b"x", partition=0)
        finally:
            await producer.stop()
        await asyncio.wait_for(busy.wait(), timeout=60)
        assert app_threads(app), "the consumer runs in a thread of its own"

        assert await stop_app(app, timeout=3) == "forced"  # its stop timed out

        assert app_threads(app) == []
    finally:
        let_go.set()
        await asyncio.sleep(0.1)


async def test_a_stop_that_ignores_cancellation_is_abandoned_not_awaited_for_ever(bootstrap):
    settings = isolated_settings(partitions=1)
    app = make_app("unstoppable", settings, bootstrap)
    let_go = asyncio.Event()

    @app.on_before_shutdown.connect
    async def unstoppable(sender, **kwargs):  # type: ignore[no-untyped-def]
        await _ignoring_cancellation_until(let_go)  # within the stop itself

    await app.start()
    try:
        started = asyncio.get_running_loop().time()
        assert await stop_app(app, timeout=1.5) == "abandoned"
        assert asyncio.get_running_loop().time() - started < 30  # ended, not hung
        assert app_threads(app) == []
    finally:
        let_go.set()
        await asyncio.sleep(0.1)
