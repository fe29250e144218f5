"""The connection manager with Deribit's protocol against a loopback venue (no Kafka): streaming,
reconnects with exact gap events, malformed frames, staleness, heartbeats, errors, rate limits."""

import json
from collections.abc import Callable, Sequence

from tickwire_ingest.adapters.connection import PlanConnection
from tickwire_ingest.domain.events import DISCONNECT, STALE
from tickwire_ingest.domain.venues.deribit import DeribitVenue
from tickwire_testing.ingest.harness import VenueAt, VenueRun, play
from tickwire_testing.ingest.loopback import (
    Await,
    Drop,
    LoopbackVenue,
    Refuse,
    Respond,
    Send,
    Silence,
    Step,
)
from tickwire_testing.ingest.recording import RecordingSink

INSTRUMENTS = ("BTC-PERPETUAL", "ETH-PERPETUAL")


def ticker(n: int, instrument: str = "BTC-PERPETUAL") -> str:
    data = {
        "instrument_name": instrument,
        "best_bid_price": 36000 + n,
        "timestamp": 1623060194301 + n,
    }
    params = {"channel": f"ticker.{instrument}.100ms", "data": data}
    return json.dumps({"jsonrpc": "2.0", "method": "subscription", "params": params})


def result(request: str, value: object) -> list[str]:
    return [json.dumps({"jsonrpc": "2.0", "id": json.loads(request)["id"], "result": value})]


def subscribed(request: str) -> list[str]:
    return result(request, json.loads(request)["params"]["channels"])


def rpc_error(code: int, message: str) -> Await:
    def reply(request: str) -> list[str]:
        error = {"code": code, "message": message}
        return [json.dumps({"jsonrpc": "2.0", "id": json.loads(request)["id"], "error": error})]

    return Await("public/subscribe", reply)


SUBSCRIBE = Await("public/subscribe", subscribed)
RESPONDERS = (
    Respond("public/set_heartbeat", lambda request: result(request, "ok")),
    Respond("public/test", lambda request: result(request, {"version": "1.2.26"})),
)
TEST_REQUEST = json.dumps(
    {"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}}
)
HEARTBEAT = json.dumps({"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "heartbeat"}})


def deribit(stale_after_s: float | None = None, rate_limit_wait_s: float = 5.0) -> VenueAt:
    return lambda url: DeribitVenue(
        INSTRUMENTS, url=url, stale_after_s=stale_after_s, rate_limit_wait_s=rate_limit_wait_s
    )


def run(
    scripts: Sequence[Sequence[Step]], venue: VenueAt, until: int | Callable[[VenueRun], bool]
) -> tuple[RecordingSink, PlanConnection, LoopbackVenue]:
    """Play the scripts, Deribit's answers to heartbeat setup and tests standing by."""
    return play(scripts, venue, until=until, responders=RESPONDERS)


def test_a_normal_stream_is_published_in_order_and_unchanged() -> None:
    frames = [ticker(n, INSTRUMENTS[n % 2]) for n in range(20)]
    sink, conn, server = run([[SUBSCRIBE, Send(frames)]], deribit(), until=20)
    assert [m.payload.decode() for m in sink.messages] == frames
    assert [m.instrument for m in sink.messages] == [INSTRUMENTS[n % 2] for n in range(20)]
    assert {m.feed for m in sink.messages} == {"ticker"}
    assert sink.gaps == []
    assert server.connections == 1
    sent = [json.loads(f)["method"] for f in server.received[0]]
    assert sent[:2] == ["public/set_heartbeat", "public/subscribe"]
    assert conn.stats["frames"] == 22  # 20 tickers and 2 answers
    assert not conn.healthy()  # stopped


def test_a_drop_mid_stream_resubscribes_and_reports_exactly_the_missed_stretch() -> None:
    before = [ticker(n) for n in range(5)]
    after = [ticker(n) for n in range(5, 10)]
    scripts = [[SUBSCRIBE, Send(before), Drop()], [SUBSCRIBE, Send(after)]]
    sink, conn, server = run(scripts, deribit(), until=10)
    assert [m.payload.decode() for m in sink.messages] == before + after
    assert server.connections == 2
    assert all(any("public/subscribe" in f for f in sent) for sent in server.received)
    last_before, first_after = sink.messages[4], sink.messages[5]
    assert [(g.instrument, g.reason) for g in sink.gaps] == [
        (name, DISCONNECT) for name in INSTRUMENTS
    ]
    for gap in sink.gaps:
        assert (gap.start_ts, gap.end_ts) == (last_before.received_ts, first_after.received_ts)
    # The gaps come before the first message after them.
    assert sink.events.index(sink.gaps[-1]) < sink.events.index(first_after)
    assert conn.stats["reconnects.disconnect"] == 1


def test_malformed_frames_are_counted_and_skipped() -> None:
    frames = [ticker(0), "{oops", ticker(1), "[1, 2]", ticker(2, "SOL-PERPETUAL"), ticker(3)]
    sink, conn, server = run(
        [[SUBSCRIBE, Send(frames)]], deribit(), until=lambda run: run.conn.stats["frames"] == 8
    )
    assert [m.payload.decode() for m in sink.messages] == [ticker(0), ticker(1), ticker(3)]
    assert conn.stats["malformed"] == 3
    assert server.connections == 1 and sink.gaps == []


def test_silence_beyond_the_stale_timeout_recycles_the_connection() -> None:
    scripts = [
        [SUBSCRIBE, Send([ticker(0), ticker(1)]), Silence(10)],
        [SUBSCRIBE, Send([ticker(2)])],
    ]
    sink, conn, server = run(scripts, deribit(stale_after_s=0.3), until=3)
    assert server.connections == 2
    assert conn.stats["reconnects.stale"] == 1
    assert [g.reason for g in sink.gaps] == [STALE, STALE]
    assert {(g.start_ts, g.end_ts) for g in sink.gaps} == {
        (sink.messages[1].received_ts, sink.messages[2].received_ts)
    }


def test_heartbeats_keep_a_quiet_connection_alive_and_test_requests_are_answered() -> None:
    # After the test requests (whose answers are traffic too), only heartbeats for a second: three
    # times the stale timeout without a ticker or any other frame.
    beats = [HEARTBEAT] * 10
    script = [
        SUBSCRIBE,
        Send([ticker(0), TEST_REQUEST, TEST_REQUEST]),
        Send(beats, interval_s=0.1),
        Send([ticker(1)]),
    ]
    sink, conn, server = run([script], deribit(stale_after_s=0.3), until=2)
    assert sum("public/test" in f for f in server.received[0]) == 2
    assert server.connections == 1
    assert sink.gaps == [] and conn.stats["reconnects.stale"] == 0


def test_a_subscription_the_venue_refuses_is_reported_and_the_rest_flows() -> None:
    def partly(request: str) -> list[str]:
        return result(request, ["ticker.BTC-PERPETUAL.100ms"])

    script = [Await("public/subscribe", partly), Send([ticker(0)])]
    _, conn, _ = run([script], deribit(), until=1)  # and ready then
    assert conn.stats["errors.venue"] == 1


def test_too_many_requests_closes_and_waits_before_reconnecting() -> None:
    scripts = [[rpc_error(10028, "too_many_requests")], [SUBSCRIBE, Send([ticker(0)])]]
    _, conn, server = run(scripts, deribit(rate_limit_wait_s=0.3), until=1)
    assert conn.stats["errors.venue"] == 1
    assert server.attempts[1] - server.attempts[0] >= 0.3


def test_a_429_with_retry_after_delays_the_next_connect() -> None:
    scripts = [[Refuse(429, retry_after="0.4")], [SUBSCRIBE, Send([ticker(0)])]]
    _, conn, server = run(scripts, deribit(), until=1)
    assert conn.stats["errors.rate_limited"] == 1
    assert server.attempts[1] - server.attempts[0] >= 0.4
    assert server.connections == 1
