import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwire_core.errors import ConfigError
from tickwire_ingest.connectors import make_venue
from tickwire_ingest.domain.events import SEQUENCE, VenueMessage
from tickwire_ingest.domain.protocol import ConnectionPlan, Inbound
from tickwire_ingest.domain.sequence import SequenceTracker
from tickwire_ingest.domain.venues import kraken
from tickwire_ingest.settings import IngestSettings

T0 = 1_700_000_000_000_000

# Shapes from Kraken's spot WebSocket v2 documentation (ticker, trade, acks, heartbeat, status).
TICKER: dict[str, Any] = {
    "channel": "ticker",
    "type": "snapshot",
    "data": [
        {
            "symbol": "ALGO/USD",
            "bid": 0.10025,
            "bid_qty": 740.0,
            "ask": 0.10036,
            "ask_qty": 1361.44813783,
            "last": 0.10035,
            "volume": 997038.98383185,
            "vwap": 0.10148,
            "low": 0.09979,
            "high": 0.10285,
            "change": -0.00017,
            "change_pct": -0.17,
            "timestamp": "2023-09-25T09:04:31.742648Z",
        }
    ],
}


def trade(trade_id: int, symbol: str = "MATIC/USD") -> dict[str, Any]:
    return {
        "symbol": symbol,
        "side": "buy",
        "price": 0.5147,
        "qty": 6423.46326,
        "ord_type": "limit",
        "trade_id": trade_id,
        "timestamp": "2023-09-25T07:48:36.925533Z",
    }


def trades(*entries: dict[str, Any], kind: str = "update") -> str:
    return json.dumps({"channel": "trade", "type": kind, "data": list(entries)})


def settings(**overrides: Any) -> IngestSettings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": "localhost:9092",
        "connector": "kraken",
        "instruments": "ALGO/USD,MATIC/USD",
        "venue_url": "",
        "stale_after_s": None,
        "kraken_channels": "ticker,trade",
    }
    return IngestSettings(**(values | overrides))


def new_session(tracker: SequenceTracker | None = None) -> kraken.KrakenSession:
    return kraken.KrakenSession(
        ("ALGO/USD", "MATIC/USD"), ("ticker", "trade"), tracker or SequenceTracker()
    )


def test_open_subscribes_each_channel_and_asks_for_the_trade_snapshot() -> None:
    sent = [json.loads(text) for text in new_session().on_open(T0)]
    symbols = ["ALGO/USD", "MATIC/USD"]
    assert sent == [
        {"method": "subscribe", "params": {"channel": "ticker", "symbol": symbols}},
        {
            "method": "subscribe",
            "params": {"channel": "trade", "symbol": symbols, "snapshot": True},
        },
    ]


def test_ticker_frame_is_published_unchanged_under_its_symbol() -> None:
    text = json.dumps(TICKER)
    inbound = new_session().on_frame(text, T0 + 7)
    assert inbound.messages == [VenueMessage("ticker", "ALGO/USD", text.encode(), T0 + 7)]
    assert inbound.malformed is None and inbound.gaps == []


def test_trade_frame_is_published_once_under_its_first_symbol() -> None:
    text = trades(trade(10), trade(11, "ALGO/USD"))
    inbound = new_session().on_frame(text, T0)
    assert [(m.feed, m.instrument, m.payload) for m in inbound.messages] == [
        ("trade", "MATIC/USD", text.encode())
    ]


def test_empty_snapshot_publishes_nothing() -> None:
    assert new_session().on_frame(trades(kind="snapshot"), T0) == Inbound()


def test_heartbeat_and_status_frames() -> None:
    session = new_session()
    assert session.on_frame('{"channel":"heartbeat"}', T0) == Inbound(heartbeat=True)
    status = {
        "channel": "status",
        "type": "update",
        "data": [{"api_version": "v2", "connection_id": 1, "system": "online", "version": "2.0.0"}],
    }
    assert session.on_frame(json.dumps(status), T0) == Inbound()


def test_subscribe_ack_confirms_the_channel() -> None:
    ack = {
        "method": "subscribe",
        "result": {"channel": "ticker", "snapshot": True, "symbol": "ALGO/USD"},
        "success": True,
        "time_in": "2023-09-25T09:04:31.742599Z",
        "time_out": "2023-09-25T09:04:31.742648Z",
    }
    assert new_session().on_frame(json.dumps(ack), T0) == Inbound(subscribed=["ticker"])


def test_subscribe_failure_is_an_error_naming_the_symbol() -> None:
    nack = {
        "error": "Currency pair not supported ALGO/USDX",
        "method": "subscribe",
        "success": False,
        "symbol": "ALGO/USDX",
        "time_in": "2023-09-25T09:04:31.742599Z",
        "time_out": "2023-09-25T09:04:31.742648Z",
    }
    inbound = new_session().on_frame(json.dumps(nack), T0)
    assert inbound.errors == ["Currency pair not supported ALGO/USDX (ALGO/USDX)"]
    assert inbound.subscribed == [] and inbound.retry_after_s is None


@pytest.mark.parametrize("error", ["Exceeded msg rate", "EAPI:Rate limit exceeded"])
def test_rate_limit_error_asks_to_wait(error: str) -> None:
    nack = {"error": error, "method": "subscribe", "success": False}
    inbound = new_session().on_frame(json.dumps(nack), T0)
    assert inbound.errors == [error] and inbound.retry_after_s == kraken.RATE_LIMIT_BACKOFF_S


def test_pong_is_quietly_accepted() -> None:
    pong = {"method": "pong", "req_id": 1, "time_in": "x", "time_out": "y"}
    assert new_session().on_frame(json.dumps(pong), T0) == Inbound()


def test_timer_pings_at_the_configured_interval() -> None:
    session = new_session()
    session.ping_every_us = 1_000
    session.on_open(T0)
    assert session.on_timer(T0 + 999) == []
    assert [json.loads(f) for f in session.on_timer(T0 + 1_000)] == [
        {"method": "ping", "req_id": 1}
    ]
    assert session.on_timer(T0 + 1_500) == []
    assert [json.loads(f)["req_id"] for f in session.on_timer(T0 + 2_000)] == [2]


def test_timer_before_open_sends_nothing() -> None:
    assert new_session().on_timer(T0) == []


def test_trade_id_jump_is_a_gap_for_that_symbol() -> None:
    session = new_session()
    session.on_frame(trades(trade(100)), T0)
    session.on_frame(trades(trade(101, "ALGO/USD")), T0 + 1)
    inbound = session.on_frame(trades(trade(105)), T0 + 50)
    (gap,) = inbound.gaps
    assert (gap.instrument, gap.reason) == ("MATIC/USD", SEQUENCE)
    assert (gap.expected_seq, gap.received_seq, gap.lost) == (101, 105, 4)
    assert (gap.start_ts, gap.end_ts) == (T0, T0 + 50)
    assert len(inbound.messages) == 1


def test_trades_within_a_frame_are_checked_in_id_order() -> None:
    session = new_session()
    session.on_frame(trades(trade(100)), T0)
    # A snapshot listed newest first: no jump, and 101..103 are all accounted for.
    assert session.on_frame(trades(trade(103), trade(102), trade(101)), T0 + 1).gaps == []
    assert session.on_frame(trades(trade(104)), T0 + 2).gaps == []


def test_a_reconnect_loss_is_measured_across_sessions_of_one_venue() -> None:
    venue = make_venue(settings())
    (plan,) = venue.plan()
    venue.session(plan).on_frame(trades(trade(200), trade(201)), T0)
    # The new connection's snapshot repeats 199..201 and then shows 202..203 missing.
    after = venue.session(plan).on_frame(
        trades(trade(199), trade(200), trade(201), trade(204), kind="snapshot"), T0 + 9
    )
    (gap,) = after.gaps
    assert (gap.expected_seq, gap.received_seq, gap.lost) == (202, 204, 2)
    assert (gap.start_ts, gap.end_ts) == (T0, T0 + 9)


def test_snapshot_replaying_only_published_trades_is_a_counted_duplicate() -> None:
    venue = make_venue(settings())
    (plan,) = venue.plan()
    venue.session(plan).on_frame(trades(trade(300), trade(301)), T0)
    replay = trades(trade(300), trade(301), kind="snapshot")
    assert venue.session(plan).on_frame(replay, T0 + 5) == Inbound(duplicates=1)


def test_snapshot_with_some_new_trades_is_published_whole() -> None:
    session = new_session()
    session.on_frame(trades(trade(300)), T0)
    text = trades(trade(300), trade(301), kind="snapshot")
    inbound = session.on_frame(text, T0 + 5)
    assert [m.payload for m in inbound.messages] == [text.encode()]
    assert inbound.duplicates == 0 and inbound.gaps == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "nope",
        "[]",
        "{}",
        '{"channel": 3}',
        '{"channel": "ticker", "data": {}}',
        '{"channel": "ticker", "data": [1]}',
        '{"channel": "ticker", "data": [{"bid": 1}]}',
        '{"channel": "trade", "data": [{"symbol": "A/B", "trade_id": "7"}]}',
        '{"channel": "trade", "data": [{"symbol": "A/B", "trade_id": true}]}',
        "{" * 100_000,
    ],
)
def test_malformed_frames_are_flagged_and_publish_nothing(text: str) -> None:
    inbound = new_session().on_frame(text, T0)
    assert inbound.malformed is not None
    assert inbound.messages == [] and inbound.gaps == []


def test_make_reads_settings_and_uses_the_public_endpoint_by_default() -> None:
    venue = make_venue(settings(kraken_channels=" trade "))
    assert (venue.provider, venue.stale_after_s) == ("kraken", kraken.DEFAULT_STALE_AFTER_S)
    assert venue.plan() == [ConnectionPlan(kraken.DEFAULT_URL, ("ALGO/USD", "MATIC/USD"))]
    sent = venue.session(venue.plan()[0]).on_open(T0)
    assert [json.loads(f)["params"]["channel"] for f in sent] == ["trade"]


def test_make_takes_a_given_url_and_stale_timeout() -> None:
    venue = make_venue(settings(venue_url="ws://127.0.0.1:9/v2", stale_after_s=3.0))
    assert venue.plan()[0].url == "ws://127.0.0.1:9/v2" and venue.stale_after_s == 3.0


@pytest.mark.parametrize("overrides", [{"instruments": ""}, {"kraken_channels": " , "}])
def test_make_refuses_an_empty_subscription(overrides: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        make_venue(settings(**overrides))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["channel", "data", "symbol", "trade_id", "method", "error", "result"]),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


def is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@given(st.text())
def test_any_text_yields_an_answer_never_an_exception(text: str) -> None:
    inbound = new_session().on_frame(text, T0)
    if not is_json(text):
        assert inbound.malformed is not None and inbound.messages == []


@given(json_values)
def test_any_json_yields_an_answer_and_malformed_frames_publish_nothing(value: object) -> None:
    inbound = new_session().on_frame(json.dumps(value), T0)
    if inbound.malformed is not None:
        assert inbound.messages == [] and inbound.gaps == []
