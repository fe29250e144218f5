"""The live stream of one API process: the Kafka feed's thread and the fan-out it feeds on the
event loop, started and stopped by the app's lifespan (none without KAFKA_BOOTSTRAP_SERVERS)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from typing import Protocol

from tickwire_api.adapters.live_feed import LiveFeed, consumer_config
from tickwire_api.adapters.live_metrics import EVENTS_DROPPED, RECORDS, STREAMS
from tickwire_api.domain.live import Kind, LiveEvent, LiveFilter
from tickwire_api.domain.live_fanout import Fanout, Subscription
from tickwire_api.settings import ApiSettings
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import ANOMALIES, SIGNALS

logger = logging.getLogger(__name__)

_STOP_TIMEOUT_S = 5.0


class Feed(Protocol):
    """What the hub needs of a feed (LiveFeed, or a fake in unit tests)."""

    @property
    def connected(self) -> bool: ...
    def start(self) -> None: ...
    def stop(self, timeout_s: float = ...) -> bool: ...


class LiveHub:
    """Owns the fan-out (used on the loop only) and bridges the feed's thread to it: each batch
    goes over with call_soon_threadsafe, at most `max_pending` batches at a time, so memory
    stays bounded even if the loop falls behind. The feed then waits for the loop, never for a
    client: a slow client only loses its own events."""

    def __init__(
        self, fanout: Fanout, loop: asyncio.AbstractEventLoop, max_pending: int = 8
    ) -> None:
        self.fanout = fanout
        self._loop = loop
        self._slots = threading.BoundedSemaphore(max_pending)
        self._closing = threading.Event()
        self._feed: Feed | None = None

    @property
    def connected(self) -> bool:
        return self._feed is not None and self._feed.connected

    def run(self, feed: Feed) -> None:
        self._feed = feed
        feed.start()

    def subscribe(self, live_filter: LiveFilter) -> Subscription:
        """A new stream; raises TooManyStreams at the limit or while closing."""
        subscription = self.fanout.subscribe(live_filter)
        STREAMS.inc()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if self.fanout.unsubscribe(subscription):
            STREAMS.dec()

    def deliver(self, events: list[LiveEvent]) -> bool:
        """On the feed's thread: pass a batch to the loop. False once the hub is closing."""
        while not self._slots.acquire(timeout=0.2):
            if self._closing.is_set():
                return False
        try:
            self._loop.call_soon_threadsafe(self._publish, events)
        except RuntimeError:  # the loop is closed: the app is gone
            self._slots.release()
            return False
        return not self._closing.is_set()

    def _publish(self, events: list[LiveEvent]) -> None:
        try:
            for kind, count in self.fanout.publish(events).items():
                EVENTS_DROPPED.labels(kind).inc(count)
            for kind, count in Counter(event.kind for event in events).items():
                RECORDS.labels(kind).inc(count)
        finally:
            self._slots.release()

    async def stop(self) -> None:
        """End every stream, then stop the feed and wait (off the loop) for its thread."""
        self._closing.set()
        self.fanout.close()
        if self._feed is not None and not await asyncio.to_thread(self._feed.stop, _STOP_TIMEOUT_S):
            logger.warning("live feed did not stop within %.0f s", _STOP_TIMEOUT_S)


def start_live(settings: ApiSettings) -> LiveHub | None:
    """The process' live hub with its feed running, or None when Kafka is not configured. Call
    it on the event loop (the lifespan): the hub delivers to the loop it was started on."""
    # Compose files and charts pass the variable through even when it is empty.
    bootstrap_servers = (settings.kafka_bootstrap_servers or "").strip()
    if not bootstrap_servers:
        logger.info("live stream off: KAFKA_BOOTSTRAP_SERVERS is not set")
        return None
    hub = LiveHub(
        Fanout(settings.live_queue_size, settings.live_max_streams), asyncio.get_running_loop()
    )
    config = consumer_config(
        bootstrap_servers,
        f"{settings.instance_id}-api-live",
        settings.kafka_client_config,
    )
    topics: dict[str, Kind] = {
        settings.topic_prefix + ANOMALIES: "anomaly",
        settings.topic_prefix + SIGNALS: "signal",
    }
    hub.run(LiveFeed(config, topics, AvroSerde(), hub.deliver))
    return hub


async def stop_live(hub: LiveHub | None) -> None:
    if hub is not None:
        await hub.stop()
