"""The hub between the feed's thread and the event loop, with a fake feed: batches cross over to
the streams, a saturated loop bounds what is in flight, and stopping releases a waiting feed."""

import asyncio
import threading

from prometheus_client import REGISTRY

from tickwire_api.adapters.live_hub import LiveHub, start_live
from tickwire_api.domain.live import KINDS, LiveEvent, LiveFilter
from tickwire_api.domain.live_fanout import Ended, Fanout
from tickwire_api.settings import ApiSettings


class FakeFeed:
    def __init__(self) -> None:
        self.started = False
        self.stopped = False
        self.connected = True

    def start(self) -> None:
        self.started = True

    def stop(self, timeout_s: float = 5.0) -> bool:
        self.stopped = True
        return True


def event(n: int) -> LiveEvent:
    return LiveEvent("signal", "simulator", "SIM-A", f"t:0:{n}", "{}")


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_batches_from_the_feed_thread_reach_the_streams_and_are_counted() -> None:
    async def scenario() -> None:
        hub = LiveHub(Fanout(queue_size=1, max_streams=5), asyncio.get_running_loop())
        feed = FakeFeed()
        hub.run(feed)
        assert feed.started and hub.connected
        streams_before = sample("tickwire_live_streams")
        stream = hub.subscribe(LiveFilter(frozenset({"SIM-A"}), KINDS["signals"]))
        assert sample("tickwire_live_streams") == streams_before + 1
        records = sample("tickwire_live_records_total", event="signal")
        dropped = sample("tickwire_live_events_dropped_total", event="signal")

        assert await asyncio.to_thread(hub.deliver, [event(1), event(2)]) is True
        assert await stream.next(5.0) == event(1)
        assert sample("tickwire_live_records_total", event="signal") == records + 2
        assert sample("tickwire_live_events_dropped_total", event="signal") == dropped + 1

        hub.unsubscribe(stream)
        hub.unsubscribe(stream)
        assert sample("tickwire_live_streams") == streams_before
        await hub.stop()
        assert feed.stopped
        assert hub.deliver([event(3)]) is False

    asyncio.run(scenario())


def test_a_saturated_loop_holds_the_feed_after_max_pending_batches_until_stop() -> None:
    loop = asyncio.new_event_loop()  # never running here: a loop too busy to take anything
    try:
        hub = LiveHub(Fanout(queue_size=10, max_streams=1), loop, max_pending=2)
        stream = hub.subscribe(LiveFilter(frozenset({"SIM-A"}), KINDS["both"]))
        assert hub.deliver([event(1)]) and hub.deliver([event(2)])
        results: list[bool] = []
        third = threading.Thread(target=lambda: results.append(hub.deliver([event(3)])))
        third.start()
        third.join(0.3)
        assert third.is_alive() and results == []  # waits for the loop, holding nothing more

        # With no feed to join, stop() needs no loop of its own: run it while the hub's is stuck.
        asyncio.run(hub.stop())
        third.join(2.0)
        assert results == [False]
        loop.run_until_complete(asyncio.sleep(0))  # the loop catches up: the hub is closed
        assert loop.run_until_complete(stream.next(0)) == Ended()
        hub.unsubscribe(stream)
    finally:
        loop.close()


def test_without_kafka_there_is_no_hub() -> None:
    async def scenario() -> None:
        for unset in (None, "", " "):  # compose passes the variable through even when empty
            settings = ApiSettings(
                DATABASE_URL="postgresql://localhost/x",
                allow_anonymous=True,
                KAFKA_BOOTSTRAP_SERVERS=unset,
            )
            assert start_live(settings) is None

    asyncio.run(scenario())
