"""A batch is what came within `within` seconds of its first message (or `max` messages): the
window starts with the batch, not on a clock ticking while the stream is idle (streams/taking.py;
Faust's noack_take woke every `within` seconds with nothing to take)."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from shixin.runtime.faust_threads import stop_app
from shixin.streams.taking import take_batches
from tests.integration.helpers import app_on_raw_topic


async def test_a_batch_is_what_came_within_the_window_of_its_first_message(bootstrap):
    app, topic, name = await app_on_raw_topic("taking", bootstrap)
    batches: list[list[bytes]] = []
    arrived = asyncio.Event()

    @app.agent(topic)
    async def taker(stream):  # type: ignore[no-untyped-def]
        async for batch in take_batches(stream, 3, within=1.0):
            batches.append([event.value for event in batch])
            for event in batch:
                await stream.ack(event)
            arrived.set()

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    await app.start()
    try:

        async def send(*values: bytes) -> None:
            for value in values:
                await producer.send_and_wait(name, value, partition=0)

        async def next_batch() -> list[bytes]:
            await asyncio.wait_for(arrived.wait(), timeout=30)
            arrived.clear()
            return batches[-1]

        await asyncio.sleep(2.5)  # idle for longer than the window: no clock is ticking
        loop = asyncio.get_running_loop()
        await send(b"a")
        sent = loop.time()
        await asyncio.sleep(0.3)
        await send(b"b")
        assert await next_batch() == [b"a", b"b"]  # one window, from "a"
        assert loop.time() - sent > 0.9  # the window opened with "a", not on a tick before

        await send(b"c", b"d", b"e", b"f")
        assert await next_batch() == [b"c", b"d", b"e"]  # full: at once, never more than max
        assert await next_batch() == [b"f"]
    finally:
        await producer.stop()
        assert await stop_app(app) == "stopped"
