"""The threads a Faust app runs beside its event loop (its consumer's, a threaded producer's), and
ending them when the app's own stop did not.

mode starts them as non-daemon threads, so one left running keeps its process alive after
everything else has stopped: a worker that never exits after SIGTERM, a test session that never
ends (seen in CI: the consumer thread of an app whose stop had timed out, retrying for an hour a
broker that was long gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Any, Literal

from mode.threads import WorkerThread

from shixin.runtime.logging import get_logger

log = get_logger(__name__)

# stopped: by itself; forced: its stop or its threads needed help; abandoned: a stop task or a
# thread is still running (asyncio.run would wait for it for ever: the process must exit hard)
StopResult = Literal["stopped", "forced", "abandoned"]


def app_threads(app: Any) -> list[WorkerThread]:
    """The threads of `app`'s services still running."""
    return [
        thread
        for thread in threading.enumerate()
        if isinstance(thread, WorkerThread)
        and thread.is_alive()
        and getattr(thread.service, "app", None) is app
    ]


async def end_threads(threads: list[WorkerThread], timeout: float = 5.0) -> list[str]:
    """End `threads`: their tasks cancelled first (the service then stops its clients, as its
    own stop would), their loops stopped if that was not enough. The names of those that would
    not end."""
    stuck = []
    for thread in threads:
        loop = thread.service.thread_loop
        with contextlib.suppress(RuntimeError):  # its loop closed meanwhile: the thread ends
            loop.call_soon_threadsafe(_cancel_tasks, loop)
        if await _joined(thread, timeout):
            continue
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(loop.stop)
        if not await _joined(thread, timeout):
            stuck.append(thread.name)
    return stuck


async def stop_app(app: Any, timeout: float = 15.0) -> StopResult:
    """Stop `app` within about `timeout` seconds (twice that at worst), and end whatever threads
    of it its stop left running.

    Not `wait_for(app.stop())`: Faust's stop first waits for every message an agent took to be
    acknowledged, and that wait swallows cancellation, so a stop with an agent stuck on a
    message never ended, whatever the timeout. Past `timeout` those messages are given up
    (uncommitted, they come again to whoever reads the partition next), then the stop is
    cancelled, then abandoned."""
    started = time.monotonic()
    stop = asyncio.ensure_future(app.stop())
    stop.add_done_callback(_retrieved)  # an abandoned stop may still fail later: not an error
    result: StopResult = "stopped"
    if not await _settled(stop, timeout):
        result = "forced"
        consumer = getattr(app, "_consumer", None)
        unacked = getattr(consumer, "_unacked_messages", None)
        log.warning("app.stop_slow", app=app.conf.id, timeout=timeout, unacked=len(unacked or ()))
        if unacked:
            unacked.clear()
        if not await _settled(stop, timeout / 3):
            stop.cancel()
            if not await _settled(stop, timeout / 3):
                log.error("app.stop_abandoned", app=app.conf.id)
                result = "abandoned"
    elif stop.cancelled() or stop.exception() is not None:
        error = "cancelled" if stop.cancelled() else repr(stop.exception())
        log.warning("app.stop_failed", app=app.conf.id, error=error)
        result = "forced"
    left = app_threads(app)
    if left:
        log.warning("app.threads_left_running", app=app.conf.id, threads=[t.name for t in left])
        stuck = await end_threads(left)
        if stuck:
            log.error("app.threads_stuck", app=app.conf.id, threads=stuck)
            result = "abandoned"
        elif result == "stopped":
            result = "forced"
    log.debug(
        "app.stopped", app=app.conf.id, result=result, seconds=round(time.monotonic() - started, 2)
    )
    return result


async def _settled(task: asyncio.Future[Any], timeout: float) -> bool:
    done, _ = await asyncio.wait({task}, timeout=timeout)
    return bool(done)


def _retrieved(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _cancel_tasks(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()


async def _joined(thread: threading.Thread, timeout: float) -> bool:
    await asyncio.to_thread(thread.join, timeout)
    return not thread.is_alive()
