"""The connection manager with Coinbase Advanced Trade's protocol against a loopback venue (no
Kafka): subscriptions, streaming, reconnects, sequence_num gaps, errors, staleness, heartbeats."""

import copy
import json
from typing import Any

from tickwire_ingest.domain.events import DISCONNECT, SEQUENCE, STALE
from tickwire_ingest.domain.venues.coinbase import CoinbaseVenue
from tickwire_testing.fixtures import venue_fixture
from tickwire_testing.ingest.harness import VenueAt, play
from tickwire_testing.ingest.loopback import Await, Drop, Send, Silence, Step

PRODUCTS = ("BTC-USD", "ETH-USD")
CHANNELS = ("ticker", "market_trades")

FIXTURE = venue_fixture("coinbase")
# The documentation's examples: a BTC-USD ticker snapshot and an ETH-USD market_trades snapshot.
TICKER_EXAMPLE, TRADES_EXAMPLE = FIXTURE["messages"]


def numbered(example: dict[str, Any], seq: int, product: str | None = None) -> str:
    """An example message as the n-th of a connection (sequence_num), for another product if
    given; its entries then read as an update."""
    message = copy.deepcopy(example)
    message["sequence_num"] = seq
    if product is not None:
        event = message["events"][0]
        event["type"] = "update"
        for entry in event.get("tickers", []) + event.get("trades", []):
            entry["product_id"] = product
    return json.dumps(message)


def ticker(seq: int, product: str = "BTC-USD") -> str:
    return numbered(TICKER_EXAMPLE, seq, product)


def trades(seq: int, product: str = "ETH-USD") -> str:
    return numbered(TRADES_EXAMPLE, seq, product)


def heartbeat(seq: int, counter: int = 1) -> str:
    events = [{"current_time": "2023-06-23 20:31:56 +0000 UTC", "heartbeat_counter": counter}]
    message = {"channel": "heartbeats", "client_id": "", "timestamp": "2023-06-23T20:31:56Z",
               "sequence_num": seq, "events": events}  # fmt: skip
    return json.dumps(message)


def subscriptions(request: str) -> list[str]:
    """Coinbase's answer to the last subscribe: every channel now subscribed, as sequence 0."""
    subscribed = {channel: list(PRODUCTS) for channel in CHANNELS} | {"heartbeats": ["heartbeats"]}
    message = {"channel": "subscriptions", "client_id": "", "timestamp": "2023-02-09T20:32:50Z",
               "sequence_num": 0, "events": [{"subscriptions": subscribed}]}  # fmt: skip
    return [json.dumps(message)]


# The heartbeats subscribe is the last of the three sent on open.
SUBSCRIBE = Await('"heartbeats"', subscriptions)


def subscribed(*then: Step) -> list[Step]:
    """A connection that confirms the subscriptions, then plays `then`."""
    return [SUBSCRIBE, *then]


def coinbase(stale_after_s: float = 10.0) -> VenueAt:
    return lambda url: CoinbaseVenue(url, PRODUCTS, CHANNELS, stale_after_s=stale_after_s)


def test_subscribes_as_documented_and_publishes_the_stream_in_order_unchanged() -> None:
    data = [
        numbered(TICKER_EXAMPLE, 1),
        numbered(TRADES_EXAMPLE, 2),
        heartbeat(3),
        ticker(4, "ETH-USD"),
        trades(5, "BTC-USD"),
        ticker(6),
    ]
    sink, conn, server = play([subscribed(Send(data))], coinbase(), until=5)
    published = [data[n] for n in (0, 1, 3, 4, 5)]  # all but the heartbeat
    assert [m.payload.decode() for m in sink.messages] == published
    assert [(m.feed, m.instrument) for m in sink.messages] == [
        ("ticker", "BTC-USD"),
        ("market_trades", "ETH-USD"),
        ("ticker", "ETH-USD"),
        ("market_trades", "BTC-USD"),
        ("ticker", "BTC-USD"),
    ]
    sent = [json.loads(frame) for frame in server.received[0]]
    # One subscribe per channel, shaped as the documentation's, then heartbeats without products.
    assert sent == [
        FIXTURE["subscribe"] | {"product_ids": list(PRODUCTS)},
        FIXTURE["subscribe"] | {"product_ids": list(PRODUCTS), "channel": "market_trades"},
        {"type": "subscribe", "channel": "heartbeats"},
    ]
    assert sink.gaps == [] and server.connections == 1
    assert conn.stats["frames"] == 7 and conn.stats["messages"] == 5


def test_a_drop_mid_stream_resubscribes_and_reports_exactly_the_missed_stretch() -> None:
    before = [ticker(1), trades(2), ticker(3, "ETH-USD")]
    after = [ticker(1, "ETH-USD"), trades(2, "BTC-USD"), ticker(3)]  # a new connection counts anew
    scripts = [subscribed(Send(before), Drop()), subscribed(Send(after))]
    sink, conn, server = play(scripts, coinbase(), until=6)
    assert [m.payload.decode() for m in sink.messages] == before + after  # none lost, none twice
    assert server.connections == 2
    assert [len(sent) for sent in server.received] == [3, 3]  # subscribed again, in full
    assert server.received[1] == server.received[0]
    last_before, first_after = sink.messages[2], sink.messages[3]
    assert [(g.instrument, g.reason) for g in sink.gaps] == [(p, DISCONNECT) for p in PRODUCTS]
    for gap in sink.gaps:
        assert (gap.start_ts, gap.end_ts) == (last_before.received_ts, first_after.received_ts)
    assert sink.events.index(sink.gaps[-1]) < sink.events.index(first_after)
    assert conn.stats["reconnects.disconnect"] == 1


def test_a_sequence_num_jump_is_a_gap_for_every_instrument_of_the_connection() -> None:
    # Numbers 4 to 6 never arrive; which products they carried cannot be known.
    data = [ticker(1), heartbeat(2), trades(3), ticker(7, "ETH-USD"), ticker(8)]
    sink, conn, server = play([subscribed(Send(data))], coinbase(), until=4)
    assert [m.payload.decode() for m in sink.messages] == [data[0], data[2], data[3], data[4]]
    assert [(g.instrument, g.reason) for g in sink.gaps] == [(p, SEQUENCE) for p in PRODUCTS]
    for gap in sink.gaps:
        assert (gap.expected_seq, gap.received_seq, gap.lost) == (4, 7, 3)
        assert (gap.start_ts, gap.end_ts) == (
            sink.messages[1].received_ts,
            sink.messages[2].received_ts,
        )
    assert sink.events.index(sink.gaps[-1]) < sink.events.index(sink.messages[2])
    assert conn.stats["gaps.sequence"] == 2 and server.connections == 1


def test_a_repeated_sequence_num_is_dropped_and_counted() -> None:
    data = [ticker(1), trades(2), trades(2), ticker(3)]
    sink, conn, _ = play([subscribed(Send(data))], coinbase(), until=3)
    assert [m.payload.decode() for m in sink.messages] == [data[0], data[1], data[3]]
    assert conn.stats["duplicates"] == 1 and sink.gaps == []


def test_malformed_frames_are_counted_and_skipped() -> None:
    bad = [
        "{oops",
        '["ticker"]',
        '{"channel": "ticker", "sequence_num": 2}',  # no events
        json.dumps(json.loads(ticker(2)) | {"sequence_num": "2"}),
    ]
    data = [ticker(1), *bad, ticker(2), trades(3)]
    sink, conn, server = play([subscribed(Send(data))], coinbase(), until=3)
    assert [m.payload.decode() for m in sink.messages] == [ticker(1), ticker(2), trades(3)]
    assert conn.stats["malformed"] == 4
    assert sink.gaps == [] and server.connections == 1


def test_a_subscription_error_is_reported_and_the_rest_flows() -> None:
    def refuse_trades(request: str) -> list[str]:
        reason = "FOO-BAR is not a valid product"
        return [json.dumps({"type": "error", "message": "Failed to subscribe", "reason": reason})]

    script: list[Step] = [Await('"market_trades"', refuse_trades), SUBSCRIBE, Send([ticker(1)])]
    sink, conn, server = play([script], coinbase(), until=1)
    assert conn.stats["errors.venue"] == 1
    assert len(sink.messages) == 1 and server.connections == 1


def test_silence_beyond_the_stale_timeout_recycles_the_connection() -> None:
    scripts = [subscribed(Send([ticker(1), trades(2)]), Silence(10)), subscribed(Send([ticker(1)]))]
    sink, conn, server = play(scripts, coinbase(stale_after_s=0.3), until=3)
    assert server.connections == 2 and conn.stats["reconnects.stale"] == 1
    assert [(g.instrument, g.reason) for g in sink.gaps] == [(p, STALE) for p in PRODUCTS]
    assert {(g.start_ts, g.end_ts) for g in sink.gaps} == {
        (sink.messages[1].received_ts, sink.messages[2].received_ts)
    }


def test_heartbeats_keep_a_quiet_connection_alive() -> None:
    # Heartbeats only, for more than three times the stale timeout; they count in the sequence.
    beats = [heartbeat(seq, counter=seq) for seq in range(2, 10)]
    script = subscribed(Send([ticker(1)]), Send(beats, interval_s=0.1), Send([trades(10)]))
    sink, conn, server = play([script], coinbase(stale_after_s=0.25), until=2)
    assert server.connections == 1
    assert sink.gaps == [] and conn.stats["reconnects.stale"] == 0
    assert [m.feed for m in sink.messages] == ["ticker", "market_trades"]
