"""Fan-out of live events to the streams that asked for them, each through a bounded queue: a
stream too slow to keep up loses events, counted and then told, and never holds up the others.

Everything here runs on the event loop's thread (asyncio queues are not thread-safe); the Kafka
consumer thread hands batches over with `loop.call_soon_threadsafe`."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from tickwire_api.domain.live import Kind, LiveEvent, LiveFilter


@dataclass(frozen=True)
class Lagged:
    """`missed` events were dropped at this point of the stream."""

    missed: int


@dataclass(frozen=True)
class Ended:
    """The feed is closing (the server stops): the stream ends after what it already holds."""


StreamItem = LiveEvent | Lagged | Ended


class TooManyStreams(Exception):
    """The fan-out already serves its maximum of streams (or is closed)."""


class Subscription:
    """One stream's queue. It holds at most `capacity` events, plus room for one Lagged notice
    and the end; an event offered to a full queue is dropped and counted, and the count goes
    out as Lagged before the next event that fits, or as soon as the queue is drained."""

    def __init__(self, live_filter: LiveFilter, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a subscription needs room for at least one event")
        self.filter = live_filter
        self.capacity = capacity
        self._queue: asyncio.Queue[StreamItem] = asyncio.Queue(capacity + 2)
        self._missed = 0
        self._ended = False

    @property
    def queued(self) -> int:
        """Items waiting to be sent."""
        return self._queue.qsize()

    @property
    def missed(self) -> int:
        """Dropped events not yet told to the stream."""
        return self._missed

    def offer(self, event: LiveEvent) -> bool:
        """Queue `event`, or drop and count it if the stream is `capacity` events behind."""
        if self._ended:
            return False
        if self._queue.qsize() >= self.capacity:
            self._missed += 1
            return False
        if self._missed:
            self._queue.put_nowait(Lagged(self._missed))
            self._missed = 0
        self._queue.put_nowait(event)
        return True

    def end(self) -> None:
        if not self._ended:
            self._ended = True
            self._queue.put_nowait(Ended())

    async def next(self, timeout_s: float) -> StreamItem | None:
        """The next item, or None when nothing came within `timeout_s` (time for a keep-alive)."""
        if self._missed and self._queue.empty() and not self._ended:
            missed, self._missed = self._missed, 0
            return Lagged(missed)
        try:
            async with asyncio.timeout(timeout_s):
                return await self._queue.get()
        except TimeoutError:
            return None


class Fanout:
    """The streams of one process, indexed by instrument so a record only visits the streams
    that asked for its instrument."""

    def __init__(self, queue_size: int, max_streams: int) -> None:
        self.queue_size = queue_size
        self.max_streams = max_streams
        self._streams: set[Subscription] = set()
        self._by_instrument: dict[str, list[Subscription]] = {}
        self._closed = False

    def __len__(self) -> int:
        return len(self._streams)

    def subscribe(self, live_filter: LiveFilter) -> Subscription:
        if self._closed:
            raise TooManyStreams("the live stream is shutting down")
        if len(self._streams) >= self.max_streams:
            raise TooManyStreams(f"already serving the maximum of {self.max_streams} live streams")
        subscription = Subscription(live_filter, self.queue_size)
        self._streams.add(subscription)
        for instrument in live_filter.instruments:
            self._by_instrument.setdefault(instrument, []).append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> bool:
        """Forget `subscription`; False if it was already forgotten."""
        if subscription not in self._streams:
            return False
        self._streams.discard(subscription)
        for instrument in subscription.filter.instruments:
            streams = self._by_instrument.get(instrument, [])
            if subscription in streams:
                streams.remove(subscription)
            if not streams:
                self._by_instrument.pop(instrument, None)
        return True

    def publish(self, events: Iterable[LiveEvent]) -> Counter[Kind]:
        """Offer each event to every stream whose filter matches. Returns the drops by kind."""
        dropped: Counter[Kind] = Counter()
        if self._closed:
            return dropped
        for event in events:
            for subscription in self._by_instrument.get(event.instrument, ()):
                if subscription.filter.matches(event) and not subscription.offer(event):
                    dropped[event.kind] += 1
        return dropped

    def close(self) -> None:
        """End every stream and take no new ones."""
        self._closed = True
        for subscription in self._streams:
            subscription.end()
