"""Live events for the streams of one process: one tailer reads the log, streams filter.

Each gateway process runs one `Fanout`. It follows the log from the position it
started at, in log order, and hands each new event to the streams whose accounts
(and types) match. It wakes on PostgreSQL NOTIFY (sent by `log.append` at commit, so
every process hears every commit) or, on SQLite, on an append in this process; a slow
poll is the safety net either way.

A stream opened now gets the tailer's position at that instant: events up to it are
the replay's (read from the log), events after it arrive live. Both come from the same
ordered log, so the two meet with no gap and no duplicate, even when an event commits
while the replay runs.

Each stream has a bounded buffer: a consumer that falls that far behind is closed with
a reason (`SlowConsumer`) and resumes with `after` from the last cursor it received.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from models.events import BillingEvent, BillingEventType
from services.events import log

_log = logging.getLogger(__name__)

#: Streams per key (or token subject) at once, per process.
MAX_STREAMS_PER_CALLER = 20
#: Events a stream may hold undelivered before it is closed as a slow consumer.
STREAM_BUFFER = 1000
#: Without any wake-up the tailer still reads the log this often.
POLL_INTERVAL_S = 1.0
#: After a wake-up that found nothing yet (the commit is not visible yet), retry this soon.
RETRY_S = 0.01
READ_BATCH = 500
#: Bounds on the tailer's own waits on the database: a read of the log, opening the
#: LISTEN connection (connect + LISTEN), closing it, and stop() waiting for the tailer.
READ_TIMEOUT_S = 30.0
LISTEN_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    """Wait for `event` at most `seconds`; True if it is set.

    Not `asyncio.wait_for`: before Python 3.12 it swallows a cancel that lands between
    the awaited event being set and the waiter resuming (CPython gh-86296), so a loop
    around it can outlive its cancel and `stop()` waited on it forever.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()


class StreamClosed(Exception):
    """The stream ended for a reason the client should see (code + message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SlowConsumer(StreamClosed):
    def __init__(self) -> None:
        super().__init__(
            "SLOW_CONSUMER",
            f"More than {STREAM_BUFFER} events waited for this client: the stream was closed. "
            "Subscribe again with `after` set to the last cursor received.",
        )


class TooManyStreams(StreamClosed):
    def __init__(self) -> None:
        super().__init__(
            "TOO_MANY_STREAMS",
            f"This key already has {MAX_STREAMS_PER_CALLER} event streams open; close one.",
        )


@dataclass(eq=False)
class Stream:
    """One subscriber's view of the live log."""

    caller: str
    account_ids: frozenset[int] | None  # None: every account (internal use only)
    types: frozenset[str]
    start: log.Position
    queue: asyncio.Queue[BillingEvent] = field(
        default_factory=lambda: asyncio.Queue(maxsize=STREAM_BUFFER)
    )
    overflowed: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, event: BillingEvent) -> bool:
        if self.account_ids is not None and event.account_id not in self.account_ids:
            return False
        return not self.types or event.type in self.types

    def offer(self, event: BillingEvent) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
        self.wake.set()

    async def next(self, wait_s: float) -> BillingEvent | None:
        """The next live event, or None after `wait_s` seconds without one."""
        if self.queue.empty():
            if self.overflowed:
                raise SlowConsumer()
            self.wake.clear()
            await _wait(self.wake, wait_s)
        if not self.queue.empty():
            return self.queue.get_nowait()
        if self.overflowed:
            raise SlowConsumer()
        return None


class Fanout:
    """The per-process tailer of the event log."""

    def __init__(self, database_url: str | None = None) -> None:
        self._database_url = database_url
        self._streams: set[Stream] = set()
        self._position = log.START
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener: Any = None
        self._unhook: Any = None
        self._started = asyncio.Event()

    @property
    def position(self) -> log.Position:
        return self._position

    @property
    def stream_count(self) -> int:
        return len(self._streams)

    async def start(self) -> None:
        if self._task is not None:
            return
        self._position = await log.head()
        self._unhook = log.on_append(self._wake.set)
        if self._database_url and self._database_url.split(":", 1)[0].startswith("postgres"):
            await self._listen(self._database_url)
        self._task = asyncio.create_task(self._run(), name="billing-events-fanout")
        self._started.set()

    async def _listen(self, url: str) -> None:
        """Open the LISTEN connection; it becomes `_listener` only once it listens, so a
        failure leaves the dropped one in place and the next turn tries again."""
        import asyncpg

        dsn = url.replace("postgres://", "postgresql://", 1)
        if self._listener is not None:  # a dropped one: let it go without waiting on it
            self._listener.terminate()
        connection = None
        try:
            async with asyncio.timeout(LISTEN_TIMEOUT_S):
                connection = await asyncpg.connect(dsn)
                await connection.add_listener(log.CHANNEL, lambda *_: self._wake.set())
        except BaseException:
            if connection is not None:
                connection.terminate()
            raise
        # A drop wakes the tailer, which listens again now rather than at the next poll.
        connection.add_termination_listener(lambda _: self._wake.set())
        self._listener = connection

    async def _relisten(self) -> None:
        """The LISTEN connection dropped (a restart, a failover): open it again. Until it
        is back, the poll keeps delivering, up to POLL_INTERVAL_S late."""
        assert self._database_url is not None
        try:
            await self._listen(self._database_url)
        except Exception:  # the database is still away: the next turn tries again
            _log.warning("event fanout could not LISTEN again", exc_info=True)
        else:
            self._wake.set()  # read what was notified while it was away

    async def stop(self) -> None:
        """Stop the tailer and close the LISTEN connection, within a few seconds whatever
        state the database or the connection is in."""
        if self._unhook is not None:
            self._unhook()
            self._unhook = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)
            if not task.done():
                _log.error("event fanout tailer did not stop within %.0f s", STOP_TIMEOUT_S)
            elif not task.cancelled() and (failure := task.exception()) is not None:
                _log.error("event fanout tailer had failed: %s", type(failure).__name__)
        listener, self._listener = self._listener, None
        if listener is not None:
            try:  # a close on a connection the server dropped can wait forever
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await listener.close()
            except Exception:
                listener.terminate()

    def open(
        self,
        caller: str,
        account_ids: frozenset[int] | None,
        types: Iterable[BillingEventType] = (),
    ) -> Stream:
        """Register a stream from the tailer's position now; TooManyStreams past the limit."""
        if caller and sum(1 for s in self._streams if s.caller == caller) >= (
            MAX_STREAMS_PER_CALLER
        ):
            raise TooManyStreams()
        stream = Stream(
            caller=caller,
            account_ids=account_ids,
            types=frozenset(BillingEventType(t).value for t in types),
            start=self._position,
        )
        self._streams.add(stream)
        return stream

    def close(self, stream: Stream) -> None:
        self._streams.discard(stream)

    async def _run(self) -> None:
        retries = 0
        while True:
            woke = await _wait(self._wake, RETRY_S if retries else POLL_INTERVAL_S)
            self._wake.clear()
            if self._listener is not None and self._listener.is_closed():
                await self._relisten()
            try:
                async with asyncio.timeout(READ_TIMEOUT_S):
                    found = await self._read()
            except asyncio.CancelledError:
                raise
            except Exception:  # a lost connection: keep the position, try again shortly
                _log.warning("event fanout read failed", exc_info=True)
                await asyncio.sleep(POLL_INTERVAL_S)
                continue
            # A wake-up may come before its commit is visible (SQLite: before commit;
            # PostgreSQL: an older transaction still running): look again soon, a while.
            if found:
                retries = 0
            elif woke or retries:
                retries = retries + 1 if retries < 200 else 0

    async def _read(self) -> bool:
        found = False
        while True:
            batch = await log.read_after(self._position, account_ids=None, limit=READ_BATCH)
            if not batch:
                return found
            found = True
            for event in batch:
                self._position = log.Position.of(event)
                for stream in list(self._streams):
                    if stream.wants(event):
                        stream.offer(event)
            if len(batch) < READ_BATCH:
                return True


_process_fanout: Fanout | None = None


def install(fanout: Fanout | None) -> None:
    """Make `fanout` this process's tailer (the app's lifespan starts and installs it)."""
    global _process_fanout
    _process_fanout = fanout


def current() -> Fanout:
    if _process_fanout is None:
        raise RuntimeError("no event fanout runs in this process")
    return _process_fanout


async def follow(
    fanout: Fanout,
    *,
    caller: str,
    account_ids: frozenset[int],
    after: log.Position | None,
    types: Iterable[BillingEventType] = (),
    idle_s: float = POLL_INTERVAL_S,
) -> AsyncIterator[BillingEvent | None]:
    """Yield the events of `account_ids` after `after` (replayed from the log), then live
    ones as they commit; None after `idle_s` seconds without one (a chance for the
    caller to check its credentials or send a keep-alive). Never a gap, never twice."""
    type_list = list(types)
    stream = fanout.open(caller, account_ids, type_list)
    try:
        last = after if after is not None else stream.start
        if after is not None and after < stream.start:
            while True:
                batch = await log.read_after(
                    last, account_ids=account_ids, types=type_list, until=stream.start
                )
                for replayed in batch:
                    last = log.Position.of(replayed)
                    yield replayed
                if len(batch) < READ_BATCH:
                    break
            last = max(last, stream.start)
        while True:
            event = await stream.next(idle_s)
            if event is None:
                yield None
                continue
            position = log.Position.of(event)
            if position <= last:  # a cursor from a process further ahead than this one
                continue
            last = position
            yield event
    finally:
        fanout.close(stream)


async def start_fanout(database_url: str | None) -> Fanout:
    """Start this process's tailer (PostgreSQL: LISTEN on its own connection) and install it."""
    fanout = Fanout(database_url)
    await fanout.start()
    install(fanout)
    return fanout


async def stop_fanout(fanout: Fanout) -> None:
    if _process_fanout is fanout:
        install(None)
    await fanout.stop()
