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

3. Commits pass only over what was processed. Faust commits the first run of consecutive
   acknowledged offsets, and checks for unprocessed messages before it only against the committed
   offset it knows, which it forgets at a revocation (and never has for a partition committed at
   0). The batch in flight when a rebalance begins is acknowledged after the revocation: its run
   was committed even when messages before it had never been processed (the hand-over crash test
   lost whole runs of a partition this way). Corrected: each partition's commit base is the offset
   the consumer last sought to or committed, and a commit only covers a run of acknowledged offsets
   that starts exactly there; a revocation forgets the base, so nothing is committed for the
   partition until the rebalance's seek sets it again.

4. Stream queues kept on resume. Resuming flow control (`app.flow_control.resume()`) emptied
   every agent's queue. The end of a rebalance resumes the stream partitions and seeks them first,
   then resumes flow control: messages fetched from the new position in between were handed to the
   agents (read offset recorded) and then thrown away, never processed and never read again (the
   hand-over crash test lost them). Corrected: resuming empties only the tables' changelog queue,
   as before; the agents' queues are emptied at each revocation (Faust does so explicitly), and
   their streams skip messages of an earlier generation anyway.

   And a message whose partition was sought back to or before it while it was being handed over
   (waiting for room in a full queue) was fetched before that seek; processed now it could
   overtake the earlier messages read again from the new position (an entry's later event before
   its listing: a false dead letter). It is marked superseded and the batch processor drops it;
   it comes again.

5. The fetch wait. Faust asks the broker to hold a fetch up to 1.5 s when there is nothing new
   (hard-coded); a broker that does not answer early when data arrives then adds that wait to
   every hop of the pipeline. `Settings.fetch_max_wait` sets it.

6. The stop's collections. At a stop, each app waits until its agents have acknowledged what
   they took, and each round of that wait ran a full garbage collection (to drop messages
   forgotten unacknowledged from Faust's weak set). The demo's 45 apps stopping together spent
   most of their stop in those collections, while the batches whose acknowledgements they waited
   for waited for the event loop: stops took 1 to 17 s. A message is freed by its reference count
   when its batch is dropped; a collection of the young generation frees the cycles just made
   (a cancelled task's frames), and costs next to nothing.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any, cast

from faust.app import base as faust_app
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types.tuples import ack_lock
from mode import Service
from mode.utils.futures import notify
from mode.utils.objects import cached_property
from mode.utils.queues import FlowControlEvent

from shixin.runtime.logging import get_logger

# at debug level: every drop, gap, seek and commit of the input partitions (crash tests)
trace = get_logger("shixin.offsets")

_FAUST_VERSION = "0.15.3"

# messages whose processing is complete; Faust's messages have slots but take weak references
_finished: weakref.WeakSet[Any] = weakref.WeakSet()


# messages handed to a stream while a seek moved their partition back to or before them: they
# come again from the new position, and processed now they could overtake earlier messages
_superseded: weakref.WeakSet[Any] = weakref.WeakSet()


def superseded(message: Any) -> bool:
    """Handed over while its partition was sought back: the batch processor drops it."""
    return message in _superseded


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
    _trace_offsets(consumer_cls)
    _commit_from_bases(consumer_cls)
    faust_app.App.flow_control = cached_property(flow_control)  # type: ignore[method-assign]
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
    faust_consumer.gc = _YoungCollections()  # type: ignore[assignment,attr-defined]


class _YoungCollections:
    """The `gc` module as Faust's consumer module sees it: `collect()` of the young generation
    only (6. above)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(gc, name)

    @staticmethod
    def collect(generation: int = 2) -> int:  # whatever Faust asks for: the young one
        return gc.collect(0)


def _trace_offsets(consumer_cls: Any) -> None:
    """Log the consumer's seeks, gaps, commits and rebalances at debug level."""
    commit_offsets = consumer_cls._commit_offsets
    add_gap = consumer_cls._add_gap
    revoked = consumer_cls.on_partitions_revoked
    assigned = consumer_cls.on_partitions_assigned

    def tps(offsets: Any) -> dict[str, Any]:
        return {f"{tp.topic}/{tp.partition}": o for tp, o in sorted(dict(offsets).items())}

    async def _commit_offsets(self: Any, offsets: Any, *args: Any, **kwargs: Any) -> bool:
        done = bool(await commit_offsets(self, offsets, *args, **kwargs))
        trace.debug("offsets.commit", offsets=tps(offsets), done=done)
        return done

    async def _add_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
        trace.debug(
            "offsets.gap", tp=f"{tp.topic}/{tp.partition}", start=offset_from, end=offset_to
        )
        await add_gap(self, tp, offset_from, offset_to)

    async def on_partitions_revoked(self: Any, tps_: Any) -> None:
        trace.debug("offsets.revoked", tps=sorted(f"{t.topic}/{t.partition}" for t in tps_))
        await revoked(self, tps_)

    async def on_partitions_assigned(self: Any, tps_: Any, generation_id: int = 0) -> None:
        trace.debug(
            "offsets.assigned",
            tps=sorted(f"{t.topic}/{t.partition}" for t in tps_),
            generation=generation_id,
        )
        await assigned(self, tps_, generation_id)

    consumer_cls._commit_offsets = _commit_offsets
    consumer_cls._add_gap = _add_gap
    consumer_cls.on_partitions_revoked = on_partitions_revoked
    consumer_cls.on_partitions_assigned = on_partitions_assigned


class _FlowControl(FlowControlEvent):
    """The app's flow control; resuming empties only the tables' changelog queue (4. above)."""

    def __init__(self, app: Any) -> None:
        super().__init__(loop=app.loop)
        self.app = app

    def resume(self) -> None:
        self._suspend.clear()
        self._resume.set()
        changelog = getattr(self.app.tables, "_changelog_queue", None)
        if changelog is not None:
            changelog.clear()


def flow_control(self: Any) -> FlowControlEvent:  # the name cached_property stores it under
    return _FlowControl(self)


def _bases(consumer: Any) -> dict[Any, int]:
    bases: dict[Any, int] | None = consumer.__dict__.get("_shixin_bases")
    if bases is None:
        bases = consumer.__dict__["_shixin_bases"] = {}
    return bases


def commit_base(consumer: Any, tp: Any) -> int | None:
    """Where the partition's next commit must start (None: not sought since assigned)."""
    return _bases(consumer).get(tp)


def _commit_from_bases(consumer_cls: Any) -> None:
    """3. above: a partition's commits start where the consumer last sought to or committed."""
    seek = consumer_cls.seek
    revoked = consumer_cls.on_partitions_revoked

    async def perform_seek(self: Any) -> None:
        # Faust's perform_seek, also recording the bases (Faust keeps no committed offset of 0)
        committed = await self.seek_to_committed()
        self._read_offset.update(
            {tp: o if o is not None and o >= 0 else None for tp, o in committed.items()}
        )
        self._committed_offset.update(
            {tp: o or None for tp, o in committed.items() if o is not None}
        )
        bases = _bases(self)
        # (acknowledgements stay: a message is acknowledged only once processed, also when that
        # happened while the seek was under way)
        for tp, offset in committed.items():
            if offset is not None and offset >= 0:
                bases[tp] = offset
            else:
                bases.pop(tp, None)
        trace.debug(
            "offsets.sought", bases={f"{t.topic}/{t.partition}": o for t, o in bases.items()}
        )

    async def seek_and_base(self: Any, partition: Any, offset: int) -> None:
        await seek(self, partition, offset)
        _bases(self)[partition] = offset

    async def on_partitions_revoked(self: Any, tps: Any) -> None:
        bases = _bases(self)
        for tp in tps:
            bases.pop(tp, None)
        await revoked(self, tps)

    def _new_offset(self: Any, tp: Any) -> int | None:
        acked: list[int] = self._acked[tp]
        base = _bases(self).get(tp)
        if not acked or base is None:
            return None
        index = self._acked_index[tp]
        gaps = self._gap[tp]
        if gaps:  # offsets the broker never returned (transaction markers) count as processed
            top = max(acked)
            for interval in gaps.overlap(0, top + 1):
                for offset in range(interval.begin, interval.end):
                    if offset not in index:
                        index.add(offset)
                        acked.append(offset)
            gaps.chop(0, top + 1)
        acked.sort()
        below = bisect_left(acked, base)  # processed again after a seek back: committed already
        if below:
            index.difference_update(acked[:below])
            del acked[:below]
        if not acked or acked[0] != base:
            return None
        run = 1
        while run < len(acked) and acked[run] == base + run:
            run += 1
        index.difference_update(acked[:run])
        del acked[:run]
        _bases(self)[tp] = base + run
        return base + run

    consumer_cls.perform_seek = perform_seek
    consumer_cls.seek = seek_and_base
    consumer_cls.on_partitions_revoked = on_partitions_revoked
    consumer_cls._new_offset = _new_offset


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


class _HandOver:
    """`await consumer.wait_first(callback(message), consumer.suspend_flow.wait())`, as Faust's
    fetch loop hands each message to the streams, for less: mode's `wait_first` made four tasks
    per message (the hand-over, and waits on the flow's suspension, the consumer's stop and its
    crash; about 9% of a court worker's time). Here one task per message races one interrupt
    that lasts until the flow is suspended or the consumer stops or crashes.

    True: the message was handed over (False, as `wait_first` said, when interrupted first, or
    when the consumer stopped or crashed meanwhile; an unfinished hand-over is cancelled)."""

    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer
        self._interrupt: asyncio.Future[Any] | None = None

    def _interrupted(self) -> asyncio.Future[Any]:
        if self._interrupt is None or self._interrupt.done():
            consumer = self.consumer
            self._interrupt = asyncio.ensure_future(
                consumer.wait_first(consumer.suspend_flow.wait())
            )
        return self._interrupt

    async def __call__(self, handing: Any) -> bool:
        consumer = self.consumer
        task = asyncio.ensure_future(handing)
        try:
            await asyncio.wait((task, self._interrupted()), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not task.done():  # interrupted first (or this loop cancelled): give it up
                task.cancel()
        if not task.done():
            return False
        task.result()  # a failed (or cancelled) hand-over raises, as in wait_first
        return not (consumer._stopped.is_set() or consumer._crashed.is_set())


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
    hand_over = _HandOver(self)

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
                        trace.debug("offsets.drop_sought", tp=str(tp), offset=offset, position=at)
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
                        handed = await hand_over(callback(message))
                        # shixin: record the offset only if the message reached the stream and
                        # no rebalance or seek moved the read position in the meantime; one
                        # whose partition was sought back to or before it meanwhile comes again
                        if handed and app.consumer_generation_id == generation:
                            at = position(tp)
                            if at is not None and offset >= at:
                                _superseded.add(message)
                                trace.debug("offsets.superseded", tp=str(tp), offset=offset)
                            elif get_read_offset(tp) == r_offset:
                                set_read_offset(tp, offset)
                    else:
                        trace.debug("offsets.drop_read", tp=str(tp), offset=offset, read=r_offset)
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
