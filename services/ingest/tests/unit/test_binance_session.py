"""Binance combined streams, frames in and meaning out: how streams are spread over connections,
events published unchanged, trade-id gaps counted exactly (also across reconnects), stale repeats
dropped, errors and shutdown notices recognised."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwire_core.errors import ConfigError
from tickwire_ingest.connectors import make_venue
from tickwire_ingest.domain.events import SEQUENCE
from tickwire_ingest.domain.venues.binance import BinanceSession, BinanceVenue, plan_streams
from tickwire_ingest.settings import IngestSettings

T0 = 1_700_000_000_000_000

# Payloads of Binance's documentation (web-socket-streams.md), as combined streams wrap them.
BOOK = {"u": 400900217, "s": "BNBUSDT", "b": "25.35190000", "B": "31.21000000",
        "a": "25.36520000", "A": "40.66000000"}  # fmt: skip
TRADE = {"e": "aggTrade", "E": 1672515782136, "s": "BNBUSDT", "a": 12345, "p": "0.001",
         "q": "100", "f": 100, "l": 105, "T": 1672515782136, "m": True, "M": True}  # fmt: skip


def book(u: int, symbol: str = "BNBUSDT") -> str:
    data = {**BOOK, "u": u, "s": symbol}
    return json.dumps({"stream": f"{symbol.lower()}@bookTicker", "data": data})


def trade(a: int, symbol: str = "BNBUSDT") -> str:
    data = {**TRADE, "a": a, "s": symbol}
    return json.dumps({"stream": f"{symbol.lower()}@aggTrade", "data": data})


def session_of(venue: BinanceVenue) -> BinanceSession:
    return venue.session(venue.plan()[0])


def test_one_connection_carries_every_stream_when_they_fit() -> None:
    venue = BinanceVenue(("btcusdt", "ETHUSDT"))
    (plan,) = venue.plan()
    assert plan.url == (
        "wss://stream.binance.com:9443/stream?streams="
        "btcusdt@bookTicker/btcusdt@aggTrade/ethusdt@bookTicker/ethusdt@aggTrade"
    )
    assert plan.instruments == ("BTCUSDT", "ETHUSDT")
    assert venue.max_connection_age_s is not None and venue.max_connection_age_s < 24 * 3600


def test_streams_are_split_into_connections_of_at_most_the_limit() -> None:
    venue = BinanceVenue(("A", "B", "C"), streams_per_connection=4)
    plans = venue.plan()
    assert [len(plan_streams(p.url)) for p in plans] == [4, 2]
    assert [p.instruments for p in plans] == [("A", "B"), ("C",)]
    odd = BinanceVenue(("A", "B", "C"), streams_per_connection=3).plan()
    assert [plan_streams(p.url) for p in odd] == [
        ("a@bookTicker", "a@aggTrade", "b@bookTicker"),
        ("b@aggTrade", "c@bookTicker", "c@aggTrade"),
    ]
    assert [p.instruments for p in odd] == [("A", "B"), ("B", "C")]


@pytest.mark.parametrize(
    "url",
    ["wss://example.test:9443", "wss://example.test:9443/", "wss://example.test:9443/stream"],
)
def test_a_given_endpoint_gets_the_combined_stream_path_once(url: str) -> None:
    (plan,) = BinanceVenue(("X",), kinds=("aggTrade",), url=url).plan()
    assert plan.url == "wss://example.test:9443/stream?streams=x@aggTrade"


def test_a_book_ticker_event_is_one_message_with_the_frame_unchanged() -> None:
    session = session_of(BinanceVenue(("BNBUSDT",)))
    text = book(400900217)
    inbound = session.on_frame(text, T0 + 7)
    assert [(m.feed, m.instrument, m.received_ts) for m in inbound.messages] == [
        ("bookTicker", "BNBUSDT", T0 + 7)
    ]
    assert inbound.messages[0].payload == text.encode()
    assert not inbound.gaps and inbound.malformed is None


def test_contiguous_trades_leave_no_gap() -> None:
    session = session_of(BinanceVenue(("BNBUSDT",)))
    inbounds = [session.on_frame(trade(a), T0 + a) for a in range(100, 105)]
    assert [m.feed for i in inbounds for m in i.messages] == ["aggTrade"] * 5
    assert all(not i.gaps for i in inbounds)


def test_a_trade_id_jump_is_a_sequence_gap_with_the_lost_count() -> None:
    session = session_of(BinanceVenue(("BNBUSDT",)))
    session.on_frame(trade(100), T0 + 1)
    inbound = session.on_frame(trade(104), T0 + 9)
    assert len(inbound.messages) == 1
    (gap,) = inbound.gaps
    assert (gap.instrument, gap.reason, gap.lost) == ("BNBUSDT", SEQUENCE, 3)
    assert (gap.expected_seq, gap.received_seq) == (101, 104)
    assert (gap.start_ts, gap.end_ts) == (T0 + 1, T0 + 9)


def test_trade_ids_are_followed_per_symbol() -> None:
    session = session_of(BinanceVenue(("BNBUSDT", "BTCUSDT")))
    session.on_frame(trade(100, "BNBUSDT"), T0)
    session.on_frame(trade(7, "BTCUSDT"), T0)
    assert not session.on_frame(trade(101, "BNBUSDT"), T0).gaps
    assert not session.on_frame(trade(8, "BTCUSDT"), T0).gaps


def test_the_loss_of_a_reconnect_is_measured_across_sessions() -> None:
    venue = BinanceVenue(("BNBUSDT",))
    session_of(venue).on_frame(trade(500), T0)
    inbound = session_of(venue).on_frame(trade(510), T0 + 1_000_000)
    assert [g.lost for g in inbound.gaps] == [9]
    assert [g.start_ts for g in inbound.gaps] == [T0]


def test_a_repeated_trade_is_dropped_as_a_duplicate() -> None:
    venue = BinanceVenue(("BNBUSDT",))
    session_of(venue).on_frame(trade(500), T0)
    again = session_of(venue).on_frame(trade(500), T0 + 1)  # e.g. overlap of two connections
    assert not again.messages and not again.gaps
    assert again.duplicates == 1


def test_book_update_ids_may_skip_but_a_repeat_or_step_back_is_stale() -> None:
    session = session_of(BinanceVenue(("BNBUSDT",)))
    assert len(session.on_frame(book(1000), T0).messages) == 1
    assert len(session.on_frame(book(1017), T0).messages) == 1  # skipping is normal
    for stale in (1017, 1003):
        inbound = session.on_frame(book(stale), T0)
        assert not inbound.messages and inbound.duplicates == 1
    assert not session.on_frame(book(1018), T0).gaps


@pytest.mark.parametrize(
    ("frame", "text"),
    [
        ({"error": {"code": 2, "msg": "Invalid request: unknown stream"}, "id": 1},
         "error 2 Invalid request: unknown stream"),
        ({"code": -1121, "msg": "Invalid symbol."}, "error -1121 Invalid symbol."),
    ],
)  # fmt: skip
def test_error_frames_are_errors(frame: dict, text: str) -> None:
    inbound = session_of(BinanceVenue(("BNBUSDT",))).on_frame(json.dumps(frame), T0)
    assert inbound.errors == [text]
    assert not inbound.messages and inbound.malformed is None


@pytest.mark.parametrize(
    "frame",
    [
        {"e": "serverShutdown", "E": 1770123456789},
        {"event": {"e": "serverShutdown", "E": 1770123456789}},
        {"stream": "bnbusdt@aggTrade", "data": {"e": "serverShutdown", "E": 1770123456789}},
    ],
)
def test_a_server_shutdown_notice_asks_for_a_new_connection(frame: dict) -> None:
    inbound = session_of(BinanceVenue(("BNBUSDT",))).on_frame(json.dumps(frame), T0)
    assert inbound.reconnect and not inbound.messages and inbound.malformed is None


def test_a_subscribe_answer_is_nothing_to_act_on() -> None:
    inbound = session_of(BinanceVenue(("BNBUSDT",))).on_frame('{"result": null, "id": 1}', T0)
    assert not (inbound.messages or inbound.errors or inbound.malformed or inbound.reconnect)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("<html>", "not JSON"),
        ('"text"', "not a JSON object"),
        ('{"stream": "ethusdt@aggTrade", "data": {"a": 1}}', "not subscribed here"),
        ('{"stream": "bnbusdt@aggTrade", "data": [1]}', "not an object"),
        ('{"stream": "bnbusdt@aggTrade", "data": {"a": "12"}}', "no aggregate trade id"),
        ('{"stream": "bnbusdt@bookTicker", "data": {"s": "BNBUSDT"}}', "no book update id"),
        ('{"u": 400900217, "s": "BNBUSDT"}', "neither"),
    ],
)
def test_frames_that_make_no_sense_are_malformed(text: str, why: str) -> None:
    inbound = session_of(BinanceVenue(("BNBUSDT",))).on_frame(text, T0)
    assert inbound.malformed is not None and why in inbound.malformed
    assert not inbound.messages


@given(st.lists(st.integers(1, 5), min_size=1, max_size=60))
def test_published_trades_plus_reported_losses_cover_every_trade_id(steps: list[int]) -> None:
    session = session_of(BinanceVenue(("BNBUSDT",)))
    ids = [1000]
    for step in steps:
        ids.append(ids[-1] + step)
    inbounds = [session.on_frame(trade(a), T0 + n) for n, a in enumerate(ids)]
    published = sum(len(i.messages) for i in inbounds)
    lost = sum(g.lost or 0 for i in inbounds for g in i.gaps)
    assert published == len(ids)
    assert published + lost == ids[-1] - ids[0] + 1


def settings(**values: object) -> IngestSettings:
    return IngestSettings(kafka_bootstrap_servers="localhost:9092", **values)


def test_make_venue_builds_binance_from_the_settings() -> None:
    venue = make_venue(
        settings(
            connector="binance",
            instruments="BTCUSDT,ETHUSDT",
            binance_streams="aggTrade",
            binance_streams_per_connection=1,
            binance_max_connection_age_s=3600,
        )
    )
    assert isinstance(venue, BinanceVenue)
    assert [plan_streams(p.url) for p in venue.plan()] == [
        ("btcusdt@aggTrade",),
        ("ethusdt@aggTrade",),
    ]
    assert venue.max_connection_age_s == 3600


def test_make_venue_refuses_binance_without_instruments_or_streams() -> None:
    with pytest.raises(ConfigError, match="TICKWIRE_INSTRUMENTS"):
        make_venue(settings(connector="binance"))
    with pytest.raises(ConfigError, match="TICKWIRE_BINANCE_STREAMS"):
        make_venue(settings(connector="binance", instruments="BTCUSDT", binance_streams=" , "))
