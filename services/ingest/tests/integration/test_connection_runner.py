"""A venue's connections run together (one per plan) against a loopback venue, report readiness,
stop on the service's threading.Event, and survive venues and sessions that misbehave."""

import asyncio
import json
import socket
import threading

from prometheus_client import REGISTRY

from tickwire_ingest.adapters.connection import PlanConnection
from tickwire_ingest.adapters.venue_runner import VenueRunner
from tickwire_ingest.domain.events import DISCONNECT
from tickwire_ingest.domain.protocol import ConnectionPlan, Inbound
from tickwire_ingest.domain.venues.binance import BinanceSession, BinanceVenue
from tickwire_ingest.domain.venues.deribit import DeribitVenue
from tickwire_testing.ingest.harness import FAST, VenueRun, counting_clock, play, serving
from tickwire_testing.ingest.loopback import Drop, LoopbackVenue, Refuse, Send, Silence
from tickwire_testing.ingest.recording import RecordingSink
from tickwire_testing.ingest.running import eventually, running


def trade(a: int, symbol: str) -> str:
    data = {"e": "aggTrade", "s": symbol, "a": a, "p": "1.0", "q": "2"}
    return json.dumps({"stream": f"{symbol.lower()}@aggTrade", "data": data})


def published_count() -> float:
    labels = {"provider": "binance"}
    return REGISTRY.get_sample_value("tickwire_ingest_ws_messages_total", labels) or 0.0


def test_one_connection_per_plan_and_ready_only_when_all_are_subscribed() -> None:
    def venue(url: str) -> BinanceVenue:
        return BinanceVenue(("AAA", "BBB"), kinds=("aggTrade",), streams_per_connection=1, url=url)

    paths = ["/stream?streams=aaa@aggTrade", "/stream?streams=bbb@aggTrade"]
    counted_before = published_count()
    # The second connection stays quiet at first: not ready until it delivers too.
    scripts = [[Send([trade(1, "AAA")])], [Silence(0.3), Send([trade(1, "BBB")])]]

    async def go() -> VenueRun:
        async with serving(scripts, venue) as run:
            await eventually(lambda: len(run.sink.messages) == 1)
            assert not run.runner.healthy()
            await eventually(run.runner.healthy)
        return run

    run = asyncio.run(go())
    assert sorted(run.server.paths) == paths
    assert sorted(m.instrument for m in run.sink.messages) == ["AAA", "BBB"]
    assert not run.runner.healthy()
    assert published_count() == counted_before + 2  # and /metrics shows it


def test_run_until_stops_on_the_services_threading_event() -> None:
    venue = BinanceVenue(("AAA",), kinds=("aggTrade",))
    sink = RecordingSink()
    stop = threading.Event()
    ticks = threading.Event()

    async def serve_until_stopped() -> None:
        async with LoopbackVenue([[Send([trade(1, "AAA")])]]) as server:
            venue.base_url = server.url
            runner = VenueRunner(venue, sink, FAST, on_tick=ticks.set)
            worker = threading.Thread(target=runner.run_until, args=(stop,))
            worker.start()
            await eventually(lambda: len(sink.messages) == 1)
            await asyncio.to_thread(ticks.wait, 5)  # the liveness beat runs too
            assert ticks.is_set()
            stop.set()
            await asyncio.to_thread(worker.join, 5)
            assert not worker.is_alive()

    asyncio.run(serve_until_stopped())


def test_a_subscription_never_confirmed_is_not_ready() -> None:
    def venue(url: str) -> DeribitVenue:
        return DeribitVenue(("BTC-PERPETUAL",), url=url)

    async def go() -> None:
        async with serving([[]], venue) as run:  # never answers public/subscribe
            server = run.server
            await eventually(lambda: server.connections == 1 and len(server.received[0]) == 2)
            assert not run.conn.healthy()

    asyncio.run(go())


class _BrittleSession:
    """Binance's session, except that it raises on some frames, as a protocol bug would."""

    def __init__(self, inner: BinanceSession) -> None:
        self.inner = inner

    def on_open(self, now_us: int) -> list[str]:
        return self.inner.on_open(now_us)

    def on_timer(self, now_us: int) -> list[str]:
        return self.inner.on_timer(now_us)

    def on_frame(self, text: str, received_ts: int) -> Inbound:
        if "boom" in text:
            raise RuntimeError("protocol bug")
        return self.inner.on_frame(text, received_ts)


class _BrittleVenue(BinanceVenue):
    def session(self, plan: ConnectionPlan) -> _BrittleSession:  # type: ignore[override]
        return _BrittleSession(super().session(plan))


def test_a_session_that_raises_or_a_binary_frame_is_counted_and_skipped() -> None:
    def venue(url: str) -> BinanceVenue:
        return _BrittleVenue(("AAA",), kinds=("aggTrade",), url=url)

    frames = [trade(1, "AAA"), '{"boom": 1}', b"\xff\xfe", trade(2, "AAA").encode()]
    sink, conn, server = play([[Send(frames)]], venue, until=2)
    assert conn.stats["errors.session"] == 1
    assert conn.stats["malformed"] == 1  # the bytes that are not text
    assert server.connections == 1
    assert sink.messages[1].payload == trade(2, "AAA").encode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_venue_is_retried_with_backoff_and_stops_promptly() -> None:
    async def go() -> None:
        venue = BinanceVenue(("AAA",), url=f"ws://127.0.0.1:{free_port()}")
        conn = PlanConnection(venue, venue.plan()[0], RecordingSink(), FAST)
        async with running(conn, stop_within_s=1.0):
            await eventually(lambda: conn.stats["errors.connect"] >= 3)
            assert not conn.healthy()

    asyncio.run(go())


def test_stopping_while_cut_off_reports_the_gap_up_to_the_stop() -> None:
    def venue(url: str) -> BinanceVenue:
        return BinanceVenue(("AAA",), kinds=("aggTrade",), url=url)

    clock = counting_clock()
    scripts = [[Send([trade(1, "AAA"), trade(2, "AAA")]), Drop()], [Refuse(503)]]

    async def go() -> RecordingSink:
        async with serving(scripts, venue, clock=clock) as run:
            await eventually(lambda: run.conn.stats["errors.connect"] >= 2)
            assert run.sink.gaps == []  # not known to be over yet
        return run.sink

    sink = asyncio.run(go())
    stopped_at = clock()
    (gap,) = sink.gaps
    assert gap.reason == DISCONNECT and gap.instrument == "AAA"
    assert gap.start_ts == sink.messages[-1].received_ts
    assert sink.messages[-1].received_ts < gap.end_ts < stopped_at
