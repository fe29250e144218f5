"""The connection manager with Binance's combined streams against a loopback venue (no Kafka):
streaming, reconnects with exact gap events, trade-id gaps, malformed frames, staleness, errors,
429/418 answers, and the planned reconnect before the 24 h cut-off that loses nothing."""

import json

import pytest

from tickwire_ingest.domain.events import DISCONNECT, SEQUENCE, STALE
from tickwire_ingest.domain.venues.binance import BinanceVenue
from tickwire_testing.ingest.harness import VenueAt, play
from tickwire_testing.ingest.loopback import Drop, Refuse, Send, Silence
from tickwire_testing.ingest.recording import RecordingSink

SYMBOLS = ("BNBUSDT", "BTCUSDT")


def trade(a: int, symbol: str = "BNBUSDT") -> str:
    data = {"e": "aggTrade", "E": 1672515782136, "s": symbol, "a": a, "p": "0.001", "q": "100",
            "f": 100, "l": 105, "T": 1672515782136, "m": True, "M": True}  # fmt: skip
    return json.dumps({"stream": f"{symbol.lower()}@aggTrade", "data": data})


def book(u: int, symbol: str = "BNBUSDT") -> str:
    data = {"u": u, "s": symbol, "b": "25.35190000", "B": "31.21000000", "a": "25.36520000",
            "A": "40.66000000"}  # fmt: skip
    return json.dumps({"stream": f"{symbol.lower()}@bookTicker", "data": data})


def trades(ids: range, symbol: str = "BNBUSDT") -> list[str]:
    return [trade(a, symbol) for a in ids]


def ids_of(sink: RecordingSink) -> list[int]:
    return [json.loads(m.payload)["data"]["a"] for m in sink.messages if m.feed == "aggTrade"]


def binance(stale_after_s: float = 60.0, max_age_s: float | None = None) -> VenueAt:
    return lambda url: BinanceVenue(
        SYMBOLS, url=url, stale_after_s=stale_after_s, max_connection_age_s=max_age_s
    )


def test_a_normal_stream_is_published_in_order_and_unchanged() -> None:
    frames = [book(400900217), trade(1), book(400900220, "BTCUSDT"), trade(2), trade(7, "BTCUSDT")]
    sink, conn, server = play([[Send(frames)]], binance(), until=5)
    assert [m.payload.decode() for m in sink.messages] == frames
    assert [(m.feed, m.instrument) for m in sink.messages] == [
        ("bookTicker", "BNBUSDT"),
        ("aggTrade", "BNBUSDT"),
        ("bookTicker", "BTCUSDT"),
        ("aggTrade", "BNBUSDT"),
        ("aggTrade", "BTCUSDT"),
    ]
    assert server.paths == [
        "/stream?streams=bnbusdt@bookTicker/bnbusdt@aggTrade/btcusdt@bookTicker/btcusdt@aggTrade"
    ]
    assert server.received == [[]]  # the URL subscribes; nothing needs sending
    assert sink.gaps == [] and conn.stats["messages"] == 5


def test_a_drop_mid_stream_reconnects_and_reports_exactly_the_missed_stretch() -> None:
    scripts = [[Send(trades(range(1, 6))), Drop()], [Send(trades(range(6, 11)))]]
    sink, conn, server = play(scripts, binance(), until=10)
    assert ids_of(sink) == list(range(1, 11))  # none lost, none twice
    assert server.connections == 2 and server.paths[1] == server.paths[0]
    last_before, first_after = sink.messages[4], sink.messages[5]
    assert [(g.instrument, g.reason) for g in sink.gaps] == [(s, DISCONNECT) for s in SYMBOLS]
    for gap in sink.gaps:
        assert (gap.start_ts, gap.end_ts) == (last_before.received_ts, first_after.received_ts)
    assert sink.events.index(sink.gaps[-1]) < sink.events.index(first_after)
    assert conn.stats["reconnects.disconnect"] == 1


def test_trades_missed_during_a_reconnect_are_counted_exactly() -> None:
    scripts = [[Send(trades(range(1, 6))), Drop()], [Send(trades(range(9, 12)))]]
    sink, _, _ = play(scripts, binance(), until=8)
    assert ids_of(sink) == [1, 2, 3, 4, 5, 9, 10, 11]
    sequence = [g for g in sink.gaps if g.reason == SEQUENCE]
    assert [(g.instrument, g.expected_seq, g.received_seq, g.lost) for g in sequence] == [
        ("BNBUSDT", 6, 9, 3)
    ]
    assert sequence[0].start_ts == sink.messages[4].received_ts
    assert sequence[0].end_ts == sink.messages[5].received_ts
    assert sorted(g.reason for g in sink.gaps) == [DISCONNECT, DISCONNECT, SEQUENCE]


def test_a_trade_id_jump_on_a_live_connection_is_a_sequence_gap() -> None:
    sink, conn, _ = play([[Send(trades(range(1, 4)) + trades(range(8, 10)))]], binance(), until=5)
    assert [(g.reason, g.lost) for g in sink.gaps] == [(SEQUENCE, 4)]
    assert conn.stats["gaps.sequence"] == 1


def test_malformed_frames_and_stale_repeats_are_counted_and_skipped() -> None:
    frames = [book(10), "not json", book(10), trade(1), '{"stream": "x@y", "data": {}}', book(11)]
    sink, conn, server = play([[Send(frames)]], binance(), until=3)
    assert [m.payload.decode() for m in sink.messages] == [book(10), trade(1), book(11)]
    assert conn.stats["malformed"] == 2
    assert conn.stats["duplicates"] == 1
    assert server.connections == 1


def test_silence_beyond_the_stale_timeout_recycles_the_connection() -> None:
    scripts = [[Send(trades(range(1, 3))), Silence(10)], [Send(trades(range(3, 5)))]]
    sink, conn, server = play(scripts, binance(stale_after_s=0.3), until=4)
    assert server.connections == 2 and conn.stats["reconnects.stale"] == 1
    assert [g.reason for g in sink.gaps] == [STALE, STALE]
    assert {(g.start_ts, g.end_ts) for g in sink.gaps} == {
        (sink.messages[1].received_ts, sink.messages[2].received_ts)
    }


def test_a_quiet_symbol_does_not_make_the_connection_stale() -> None:
    # Binance has no application heartbeat: any stream's events keep the connection alive, so
    # BTCUSDT may stay silent for much longer than the stale timeout.
    busy = Send(trades(range(1, 11)), interval_s=0.1)
    sink, conn, server = play([[Send([trade(1, "BTCUSDT")]), busy]], binance(0.3), until=11)
    assert server.connections == 1
    assert sink.gaps == [] and conn.stats["reconnects.stale"] == 0


@pytest.mark.parametrize(
    "frame",
    [
        '{"error": {"code": 2, "msg": "Invalid request: unknown stream"}, "id": null}',
        '{"code": -1121, "msg": "Invalid symbol."}',
    ],
)
def test_an_error_frame_is_reported(frame: str) -> None:
    _, conn, server = play([[Send([frame, trade(1)])]], binance(), until=1)
    assert conn.stats["errors.venue"] == 1
    assert server.connections == 1


@pytest.mark.parametrize("status", [429, 418])
def test_a_refusal_with_retry_after_delays_the_next_connect(status: int) -> None:
    scripts = [[Refuse(status, retry_after="0.3")], [Send([trade(1)])]]
    _, conn, server = play(scripts, binance(), until=1)
    assert conn.stats["errors.rate_limited"] == 1
    assert server.attempts[1] - server.attempts[0] >= 0.3


def test_a_planned_reconnect_opens_the_new_connection_first_and_loses_nothing() -> None:
    # Both connections carry the same trades, as the venue's would: the old one at its own pace,
    # the new one (opened at 1 s) catching up fast. Whichever delivers a trade first wins. The new
    # one has a whole connection age to deliver its 0.3 s of trades before it is replaced in turn:
    # on a loaded machine a shorter age let a third connection open.
    old = Send(trades(range(1, 121)), interval_s=0.01)
    new = Send(trades(range(1, 151)), interval_s=0.002)
    sink, conn, server = play([[old], [new]], binance(max_age_s=1.0), until=150)
    assert ids_of(sink) == list(range(1, 151))
    assert sink.gaps == []
    assert server.connections == 2
    assert conn.stats["reconnects.planned"] == 1
    assert conn.stats["duplicates"] > 0  # the overlap was real


def test_a_server_shutdown_notice_moves_to_a_new_connection_without_loss() -> None:
    notice = json.dumps({"e": "serverShutdown", "E": 1770123456789})
    old = [Send([*trades(range(1, 6)), notice]), Send(trades(range(6, 41)), interval_s=0.01)]
    new = [Send(trades(range(1, 61)), interval_s=0.002)]
    sink, conn, server = play([old, new], binance(), until=60)
    assert ids_of(sink) == list(range(1, 61))
    assert sink.gaps == [] and server.connections == 2
    assert conn.stats["reconnects.planned"] == 1
