"""The connection manager with Kraken's spot WebSocket v2 against a loopback venue (no Kafka):
subscriptions, streaming, reconnects with trade snapshots, trade-id gaps, errors, liveness."""

import copy
import json
from collections.abc import Callable, Sequence

from tickwire_core.clock import now_us
from tickwire_ingest.domain.events import DISCONNECT, SEQUENCE, STALE
from tickwire_ingest.domain.protocol import ConnectionPlan
from tickwire_ingest.domain.venues.kraken import KrakenSession, KrakenVenue
from tickwire_testing.fixtures import venue_fixture
from tickwire_testing.ingest.harness import VenueAt, play
from tickwire_testing.ingest.loopback import Await, Drop, Respond, Send, Silence, Step
from tickwire_testing.ingest.recording import RecordingSink

SYMBOLS = ("ALGO/USD", "MATIC/USD")
CHANNELS = ("ticker", "trade")

FIXTURE = venue_fixture("kraken")
# The documentation's examples: an ALGO/USD ticker snapshot and a MATIC/USD trade update.
TICKER_EXAMPLE, TRADE_EXAMPLE = FIXTURE["messages"]
TIME = {"time_in": "2023-09-25T09:04:31.742599Z", "time_out": "2023-09-25T09:04:31.742648Z"}
STATUS = json.dumps(
    {
        "channel": "status",
        "type": "update",
        "data": [{"api_version": "v2", "connection_id": 1, "system": "online", "version": "2.0.0"}],
    }
)
HEARTBEAT = json.dumps({"channel": "heartbeat"})


def ticker(symbol: str = "ALGO/USD") -> str:
    message = copy.deepcopy(TICKER_EXAMPLE)
    message["type"] = "update"
    message["data"][0]["symbol"] = symbol
    return json.dumps(message)


def trades(ids: Sequence[int], symbol: str = "MATIC/USD", kind: str = "update") -> str:
    """One trade frame with these trade ids, in the order given, shaped as the example."""
    entries = [TRADE_EXAMPLE["data"][0] | {"symbol": symbol, "trade_id": n} for n in ids]
    return json.dumps({"channel": "trade", "type": kind, "data": entries})


def each(ids: range, symbol: str = "MATIC/USD") -> list[str]:
    """Trade updates of one trade each."""
    return [trades([n], symbol) for n in ids]


def trade_ids(sink: RecordingSink, symbol: str = "MATIC/USD") -> list[int]:
    return [
        int(entry["trade_id"])
        for message in sink.messages
        if message.feed == "trade" and message.instrument == symbol
        for entry in json.loads(message.payload)["data"]
    ]


def acks(request: str) -> list[str]:
    """One confirmation per symbol, as Kraken answers a subscribe."""
    params = json.loads(request)["params"]
    result = {"channel": params["channel"]} | ({"snapshot": True} if "snapshot" in params else {})
    answers = [
        {"method": "subscribe", "result": result | {"symbol": symbol}, "success": True} | TIME
        for symbol in params["symbol"]
    ]
    return [json.dumps(answer) for answer in answers]


def subscribe(reply_to_ticker: Callable[[str], list[str]] = acks) -> list[Step]:
    """The venue's status, then the answers to both subscribes (ticker, then trade)."""
    return [Send([STATUS]), Await('"ticker"', reply_to_ticker), Await('"trade"', acks)]


def kraken(stale_after_s: float = 10.0) -> VenueAt:
    return lambda url: KrakenVenue(url, SYMBOLS, CHANNELS, stale_after_s=stale_after_s)


def test_subscribes_as_documented_and_publishes_the_stream_in_order_unchanged() -> None:
    data = [
        json.dumps(TICKER_EXAMPLE),
        json.dumps(TRADE_EXAMPLE),
        ticker("MATIC/USD"),
        HEARTBEAT,
        trades([4665847, 4665848]),
        trades([7], "ALGO/USD"),
    ]
    sink, conn, server = play([[*subscribe(), Send(data)]], kraken(), until=5)
    assert [m.payload.decode() for m in sink.messages] == [data[n] for n in (0, 1, 2, 4, 5)]
    assert [(m.feed, m.instrument) for m in sink.messages] == [
        ("ticker", "ALGO/USD"),
        ("trade", "MATIC/USD"),
        ("ticker", "MATIC/USD"),
        ("trade", "MATIC/USD"),
        ("trade", "ALGO/USD"),
    ]
    sent = [json.loads(frame) for frame in server.received[0]]
    example = FIXTURE["subscribe"]
    assert sent == [
        example | {"params": example["params"] | {"symbol": list(SYMBOLS)}},
        # Trades with a snapshot, so that a reconnect refills what it can.
        {
            "method": "subscribe",
            "params": {"channel": "trade", "symbol": list(SYMBOLS), "snapshot": True},
        },
    ]
    assert sink.gaps == [] and server.connections == 1
    assert conn.stats["frames"] == 1 + 4 + len(data)  # status, four acks, the data


def test_a_drop_mid_stream_resubscribes_and_drops_the_replayed_snapshot() -> None:
    before = [*each(range(10, 13)), trades([50], "ALGO/USD")]
    # After subscribing again, the trade snapshots replay what was already published.
    replay = [trades([12, 11], kind="snapshot"), trades([50], "ALGO/USD", kind="snapshot")]
    after = [trades([51], "ALGO/USD"), *each(range(13, 15))]
    scripts = [[*subscribe(), Send(before), Drop()], [*subscribe(), Send(replay + after)]]
    sink, conn, server = play(scripts, kraken(), until=7)
    assert [m.payload.decode() for m in sink.messages] == before + after  # none lost, none twice
    assert trade_ids(sink) == list(range(10, 15))
    assert server.connections == 2 and server.received[1] == server.received[0]
    last_before, first_after = sink.messages[3], sink.messages[4]
    assert [(g.instrument, g.reason) for g in sink.gaps] == [(s, DISCONNECT) for s in SYMBOLS]
    for gap in sink.gaps:
        assert (gap.start_ts, gap.end_ts) == (last_before.received_ts, first_after.received_ts)
    assert sink.events.index(sink.gaps[-1]) < sink.events.index(first_after)
    assert conn.stats["duplicates"] == 2 and conn.stats["reconnects.disconnect"] == 1


def test_trades_the_snapshot_cannot_refill_are_a_gap_with_the_lost_count() -> None:
    before = [*each(range(10, 13)), trades([50], "ALGO/USD")]
    # Trade 13 happened during the reconnect and is older than the snapshot reaches.
    snapshot = trades([16, 15, 14], kind="snapshot")  # newest first
    scripts = [[*subscribe(), Send(before), Drop()], [*subscribe(), Send([snapshot])]]
    sink, _, _ = play(scripts, kraken(), until=5)
    assert sink.messages[4].payload.decode() == snapshot
    sequence = [g for g in sink.gaps if g.reason == SEQUENCE]
    assert [(g.instrument, g.expected_seq, g.received_seq, g.lost) for g in sequence] == [
        ("MATIC/USD", 13, 14, 1)
    ]
    assert (sequence[0].start_ts, sequence[0].end_ts) == (
        sink.messages[2].received_ts,  # trade 12, the last MATIC/USD one before
        sink.messages[4].received_ts,
    )
    assert sorted(g.reason for g in sink.gaps) == [DISCONNECT, DISCONNECT, SEQUENCE]


def test_a_trade_id_jump_is_a_gap_for_that_symbol_only() -> None:
    data = [trades([10]), trades([50], "ALGO/USD"), trades([11]), trades([51], "ALGO/USD"),
            trades([15]), trades([52], "ALGO/USD")]  # fmt: skip
    sink, conn, _ = play([[*subscribe(), Send(data)]], kraken(), until=6)
    assert [m.payload.decode() for m in sink.messages] == data
    assert [
        (g.instrument, g.reason, g.expected_seq, g.received_seq, g.lost) for g in sink.gaps
    ] == [("MATIC/USD", SEQUENCE, 12, 15, 3)]
    gap = sink.gaps[0]
    assert (gap.start_ts, gap.end_ts) == (
        sink.messages[2].received_ts,
        sink.messages[4].received_ts,
    )
    assert conn.stats["gaps.sequence"] == 1


def test_malformed_frames_are_counted_and_skipped() -> None:
    bad = [
        "not json",
        "[1, 2]",
        '{"type": "update"}',  # neither an answer nor a channel
        '{"channel": "ticker", "type": "update", "data": {"symbol": "ALGO/USD"}}',
        trades([11]).replace('"trade_id": 11', '"trade_id": "11"'),
    ]
    data = [trades([10]), *bad, trades([11]), ticker()]
    sink, conn, server = play([[*subscribe(), Send(data)]], kraken(), until=3)
    assert [m.payload.decode() for m in sink.messages] == [trades([10]), trades([11]), ticker()]
    assert conn.stats["malformed"] == len(bad)
    assert sink.gaps == [] and server.connections == 1


def test_a_subscription_error_is_reported_and_the_rest_flows() -> None:
    def one_refused(request: str) -> list[str]:
        nack = {"error": "Currency pair not supported MATIC/USD", "method": "subscribe",
                "success": False, "symbol": "MATIC/USD"} | TIME  # fmt: skip
        return [acks(request)[0], json.dumps(nack)]

    sink, conn, server = play([[*subscribe(one_refused), Send([ticker()])]], kraken(), until=1)
    assert conn.stats["errors.venue"] == 1
    assert server.connections == 1 and sink.messages[0].feed == "ticker"


def test_silence_beyond_the_stale_timeout_recycles_the_connection() -> None:
    scripts = [
        [*subscribe(), Send([trades([10]), ticker()]), Silence(10)],
        [*subscribe(), Send([trades([11])])],
    ]
    sink, conn, server = play(scripts, kraken(stale_after_s=0.3), until=3)
    assert server.connections == 2 and conn.stats["reconnects.stale"] == 1
    assert [(g.instrument, g.reason) for g in sink.gaps] == [(s, STALE) for s in SYMBOLS]
    assert {(g.start_ts, g.end_ts) for g in sink.gaps} == {
        (sink.messages[1].received_ts, sink.messages[2].received_ts)
    }


def test_heartbeats_keep_a_quiet_connection_alive() -> None:
    # Kraken sends heartbeats while subscribed channels are quiet: only those, for more than three
    # times the stale timeout.
    script = [
        *subscribe(),
        Send([ticker()]),
        Send([HEARTBEAT] * 8, interval_s=0.1),
        Send([trades([10])]),
    ]
    sink, conn, server = play([script], kraken(stale_after_s=0.25), until=2)
    assert server.connections == 1
    assert sink.gaps == [] and conn.stats["reconnects.stale"] == 0


class _QuickPingVenue(KrakenVenue):
    def session(self, plan: ConnectionPlan) -> KrakenSession:
        session = super().session(plan)
        session.ping_every_us = 30_000
        return session


def test_pings_are_sent_on_the_timer_and_pongs_accepted() -> None:
    def pong(request: str) -> list[str]:
        return [json.dumps({"method": "pong", "req_id": json.loads(request)["req_id"]} | TIME)]

    def venue(url: str) -> KrakenVenue:
        return _QuickPingVenue(url, SYMBOLS, CHANNELS)

    script = [*subscribe(), Send([ticker()]), Await('"req_id": 3'), Send([ticker("MATIC/USD")])]
    # Pings are timed by the clock the session is given, so this one runs on real time.
    sink, conn, server = play(
        [script], venue, until=2, responders=[Respond("ping", pong)], clock=now_us
    )
    pings = [json.loads(f) for f in server.received[0] if '"ping"' in f]
    assert pings[:3] == [{"method": "ping", "req_id": n} for n in (1, 2, 3)]
    assert conn.stats["errors.venue"] == 0 and conn.stats["malformed"] == 0
    assert server.connections == 1 and len(sink.messages) == 2
