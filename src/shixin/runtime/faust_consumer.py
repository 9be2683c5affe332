"""Corrections to Faust's consumer (faust-streaming 0.15.3, pinned).

1. Seeks. Faust's fetch loop hands the messages of one fetch to the streams one by one
   (`callback` waits while a stream's buffer is full), records each offset as read, and drops a
   message below the read offset when it comes again. A seek back (the seek to the committed
   offsets that ends every rebalance) made while the loop is still handing over an earlier fetch
   was undone by it: the rest of that fetch went on to the streams
   and moved the read offset past the seek, so the messages fetched again from the earlier
   position were dropped unseen: never processed, never acknowledged, and the group's commits
   for that partition stopped at the first of them for good (the crash test found partitions
   stalled this way; the same race delivers later messages before earlier ones, and its gap
   bookkeeping could count the dropped ones as acknowledged). Corrected: a message at or past
   the consumer's position for its partition was fetched before a seek back and is not handed
   over (it comes again from the new position), and an offset is recorded only if the message
   was handed over and nothing moved the read position while the loop waited.

2. Acknowledging what was not processed. A stream acknowledges the messages it skips: those from
   before a rebalance (they come again from the committed offset) and those it reads while flow
   control is suspended (while a rebalance or a shutdown is under way). The consumer counts them
   as processed, so the next commit can pass over them, and if the worker then dies, stops or
   hands the partition over, they are never processed (the hand-over crash test lost runs of a
   partition's messages). Corrected: only a message the batch processor marked finished
   (`mark_finished`, after its table writes reached the broker) and from the current generation
   counts; any other acknowledgement only forgets the message.

3. The fetch wait. Faust asks the broker to hold a fetch up to 1.5 s when there is nothing new
   (hard-coded); a broker that does not answer early when data arrives then adds that wait to
   every hop of the pipeline. `Settings.fetch_max_wait` sets it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Iterable
from typing import Any, cast

from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types.tuples import ack_lock
from mode import Service
from mode.utils.futures import notify

_FAUST_VERSION = "0.15.3"

# messages whose processing is complete; Faust's messages have slots but take weak references
_finished: weakref.WeakSet[Any] = weakref.WeakSet()


def mark_finished(messages: Iterable[Any]) -> None:
    """These messages are processed: their acknowledgements count (see 2. above)."""
    for message in messages:
        _finished.add(message)


def install_faust_consumer_corrections() -> None:
    """Idempotent; refuses a Faust other than the one the corrected loop was copied from."""
    import faust

    if faust.__version__ != _FAUST_VERSION:
        raise RuntimeError(
            f"shixin.runtime.faust_consumer corrects faust-streaming {_FAUST_VERSION}'s fetch "
            f"loop; found {faust.__version__}: compare Consumer._drain_messages and update"
        )
    consumer_cls = faust_consumer.Consumer
    if getattr(consumer_cls, "_shixin_corrected", False):
        return
    consumer_cls._drain_messages = _drain_messages  # type: ignore[method-assign]
    faust_ack = consumer_cls.ack

    def ack(self: Any, message: Any) -> bool:
        generation = getattr(message, "generation_id", None)
        stale = generation is not None and generation != self.app.consumer_generation_id
        if stale or message not in _finished:
            with ack_lock:
                message.acked = True
                self._unacked_messages.discard(message)
            notify(self._waiting_for_ack)
            return False
        _finished.discard(message)
        return bool(faust_ack(self, message))

    consumer_cls.ack = ack  # type: ignore[method-assign]
    consumer_cls._shixin_corrected = True  # type: ignore[attr-defined]

    thread_cls = faust_aiokafka.AIOKafkaConsumerThread
    create = thread_cls._create_worker_consumer

    def _create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = create(self, transport)
        wait = getattr(self.app, "shixin_fetch_max_wait", None)
        if wait is not None:
            consumer._fetch_max_wait_ms = int(wait * 1000)
        return consumer

    thread_cls._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]


def position_reader(consumer: Any) -> Callable[[Any], int | None]:
    """The aiokafka consumer's position in a partition (the offset its next fetch starts at),
    read from its subscription state; None when unknown. (The aiokafka consumer lives in
    Faust's consumer thread; reading an int across threads is safe under the GIL.)"""
    thread = getattr(consumer, "_thread", None)

    def position(tp: Any) -> int | None:
        client = getattr(thread, "_consumer", None)
        if client is None:
            return None
        subscription = client._subscription.subscription
        if subscription is None or subscription.assignment is None:
            return None
        state = subscription.assignment.state_value(tp)
        if state is None or not state.has_valid_position:
            return None
        return int(state.position)

    return position


async def _drain_messages(self: Any, fetcher: Any) -> None:  # pragma: no cover - hot loop
    # Faust 0.15.3's Consumer._drain_messages; the changes are marked "shixin".
    callback = self.callback
    getmany = self.getmany
    consumer_should_stop = cast(Service, self)._stopped.is_set
    fetcher_should_stop = cast(Service, fetcher)._stopped.is_set

    get_read_offset = self._read_offset.__getitem__
    set_read_offset = self._read_offset.__setitem__
    flag_consumer_fetching = faust_consumer.CONSUMER_FETCHING
    set_flag = self.diag.set_flag
    unset_flag = self.diag.unset_flag
    commit_every = self._commit_every
    acks_enabled_for = self.app.topics.acks_enabled_for
    app = self.app
    position = position_reader(self)

    yield_every = 100
    num_since_yield = 0
    sleep = asyncio.sleep

    try:
        while not (consumer_should_stop() or fetcher_should_stop()):
            set_flag(flag_consumer_fetching)
            ait = getmany(timeout=1.0)
            await self.sleep(0)
            if not self.should_stop:
                async for tp, message in ait:
                    num_since_yield += 1
                    if num_since_yield > yield_every:
                        await sleep(0)
                        num_since_yield = 0

                    offset = message.offset
                    # shixin: fetched before a seek back to it or before it: it comes again
                    at = position(tp)
                    if at is not None and offset >= at:
                        self.log.dev("DROPPED MESSAGE SOUGHT %r: position %r", offset, at)
                        continue
                    r_offset = get_read_offset(tp)
                    if r_offset is None or offset >= r_offset:
                        gap = offset - (r_offset or 0)
                        if gap > 1 and r_offset and acks_enabled_for(message.topic):
                            await self._add_gap(tp, r_offset + 1, offset)
                        if commit_every is not None and self._n_acked >= commit_every:
                            self._n_acked = 0
                            await self.commit()
                        generation = app.consumer_generation_id  # shixin
                        handing = callback(message)
                        handed = await self.wait_first(handing, self.suspend_flow.wait())
                        # shixin: record the offset only if the message reached the stream and
                        # no rebalance or seek moved the read position in the meantime
                        if (
                            handing in handed.done
                            and app.consumer_generation_id == generation
                            and get_read_offset(tp) == r_offset
                        ):
                            set_read_offset(tp, offset)
                    else:
                        self.log.dev("DROPPED MESSAGE ROFF %r: k=%r", offset, message.key)
                unset_flag(flag_consumer_fetching)

    except self.consumer_stopped_errors:
        if self.transport.app.should_stop:
            self.log.info("Broker stopped consumer, shutting down...")
            return
        raise
    except asyncio.CancelledError:
        if self.transport.app.should_stop:
            self.log.info("Consumer shutting down for user cancel.")
            return
        raise
    except Exception as exc:
        self.log.exception("Drain messages raised: %r", exc)
        raise
    finally:
        unset_flag(flag_consumer_fetching)
