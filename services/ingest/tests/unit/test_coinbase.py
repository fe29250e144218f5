import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwire_core.errors import ConfigError
from tickwire_ingest.connectors import make_venue
from tickwire_ingest.domain.events import SEQUENCE, VenueMessage
from tickwire_ingest.domain.protocol import ConnectionPlan, Inbound
from tickwire_ingest.domain.venues import coinbase
from tickwire_ingest.settings import IngestSettings

T0 = 1_700_000_000_000_000

# Shapes from Coinbase's Advanced Trade WebSocket documentation (ticker, market_trades).
TICKER: dict[str, Any] = {
    "channel": "ticker",
    "client_id": "",
    "timestamp": "2023-02-09T20:30:37.167359596Z",
    "sequence_num": 0,
    "events": [
        {
            "type": "snapshot",
            "tickers": [
                {
                    "type": "ticker",
                    "product_id": "BTC-USD",
                    "price": "21932.98",
                    "volume_24_h": "16038.28770938",
                    "low_24_h": "21835.29",
                    "high_24_h": "23011.18",
                    "low_52_w": "15460",
                    "high_52_w": "48240",
                    "price_percent_chg_24_h": "-4.15775596190603",
                    "best_bid": "21931.98",
                    "best_bid_quantity": "8000.21",
                    "best_ask": "21933.98",
                    "best_ask_quantity": "8038.07770938",
                }
            ],
        }
    ],
}
TRADES: dict[str, Any] = {
    "channel": "market_trades",
    "client_id": "",
    "timestamp": "2023-02-09T20:19:35.39625135Z",
    "sequence_num": 0,
    "events": [
        {
            "type": "snapshot",
            "trades": [
                {
                    "trade_id": "000000000",
                    "product_id": "ETH-USD",
                    "price": "1260.01",
                    "size": "0.3",
                    "side": "BUY",
                    "time": "2019-08-14T20:42:27.265Z",
                },
                {
                    "trade_id": "000000001",
                    "product_id": "BTC-USD",
                    "price": "21930.00",
                    "size": "0.01",
                    "side": "SELL",
                    "time": "2019-08-14T20:42:27.300Z",
                },
            ],
        }
    ],
}


def settings(**overrides: Any) -> IngestSettings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": "localhost:9092",
        "connector": "coinbase",
        "instruments": "BTC-USD,ETH-USD",
        "venue_url": "",
        "stale_after_s": None,
        "coinbase_channels": "ticker,market_trades",
    }
    return IngestSettings(**(values | overrides))


def new_session() -> coinbase.CoinbaseSession:
    return coinbase.CoinbaseSession(("BTC-USD", "ETH-USD"), ("ticker", "market_trades"))


def frame(body: dict[str, Any], seq: int | None = None) -> str:
    return json.dumps(body if seq is None else body | {"sequence_num": seq})


def test_open_sends_one_subscribe_per_channel_then_heartbeats_without_products() -> None:
    sent = [json.loads(text) for text in new_session().on_open(T0)]
    assert sent == [
        {"type": "subscribe", "product_ids": ["BTC-USD", "ETH-USD"], "channel": "ticker"},
        {"type": "subscribe", "product_ids": ["BTC-USD", "ETH-USD"], "channel": "market_trades"},
        {"type": "subscribe", "channel": "heartbeats"},
    ]


def test_ticker_frame_is_published_unchanged_under_its_product() -> None:
    text = frame(TICKER)
    inbound = new_session().on_frame(text, T0 + 5)
    assert inbound.messages == [VenueMessage("ticker", "BTC-USD", text.encode(), T0 + 5)]
    assert inbound.malformed is None and inbound.gaps == [] and not inbound.heartbeat


def test_frame_with_several_products_is_published_once_under_the_first() -> None:
    text = frame(TRADES)
    inbound = new_session().on_frame(text, T0)
    assert [(m.feed, m.instrument) for m in inbound.messages] == [("market_trades", "ETH-USD")]
    assert inbound.messages[0].payload == text.encode()


def test_level2_style_event_names_its_product_on_the_event() -> None:
    events = [{"type": "update", "product_id": "ETH-USD", "updates": []}]
    assert coinbase.first_product_id(events) == "ETH-USD"


def test_data_frame_without_any_product_publishes_nothing_and_is_not_malformed() -> None:
    empty = {"channel": "market_trades", "sequence_num": 0, "events": [{"trades": []}]}
    inbound = new_session().on_frame(json.dumps(empty), T0)
    assert inbound == Inbound()


def test_channel_not_subscribed_is_ignored() -> None:
    status = {"channel": "status", "sequence_num": 0, "events": [{"products": []}]}
    assert new_session().on_frame(json.dumps(status), T0) == Inbound()


def test_heartbeats_frame_marks_a_heartbeat() -> None:
    beat = {
        "channel": "heartbeats",
        "client_id": "",
        "timestamp": "2023-06-23T20:31:26.122969572Z",
        "sequence_num": 0,
        "events": [{"current_time": "2023-06-23 20:31:56 +0000 UTC", "heartbeat_counter": 3049}],
    }
    inbound = new_session().on_frame(json.dumps(beat), T0)
    assert inbound.heartbeat and inbound.messages == [] and inbound.malformed is None


def test_subscriptions_frame_lists_the_confirmed_channels() -> None:
    ack = {
        "channel": "subscriptions",
        "sequence_num": 0,
        "events": [
            {"subscriptions": {"ticker": ["BTC-USD"], "market_trades": ["BTC-USD", "ETH-USD"]}},
            {"subscriptions": {"heartbeats": ["heartbeats"], "ticker": ["ETH-USD"]}},
        ],
    }
    inbound = new_session().on_frame(json.dumps(ack), T0)
    assert inbound.subscribed == ["ticker", "market_trades", "heartbeats"]


def test_error_frame_is_reported_with_its_reason() -> None:
    error = {"type": "error", "message": "Failed to subscribe", "reason": "bad product FOO-BAR"}
    inbound = new_session().on_frame(json.dumps(error), T0)
    assert inbound.errors == ["Failed to subscribe: bad product FOO-BAR"]
    assert inbound.retry_after_s is None


@pytest.mark.parametrize("message", ["rate limit exceeded", "Too many requests", "Rate-Limited"])
def test_rate_limit_error_asks_to_wait(message: str) -> None:
    inbound = new_session().on_frame(json.dumps({"type": "error", "message": message}), T0)
    assert inbound.errors == [message]
    assert inbound.retry_after_s == coinbase.RATE_LIMIT_BACKOFF_S


def test_sequence_jump_is_a_gap_for_every_instrument_of_the_connection() -> None:
    session = new_session()
    for seq in range(3):
        assert session.on_frame(frame(TICKER, seq), T0 + seq).gaps == []
    inbound = session.on_frame(frame(TICKER, 6), T0 + 100)
    assert [gap.instrument for gap in inbound.gaps] == ["BTC-USD", "ETH-USD"]
    for gap in inbound.gaps:
        assert gap.reason == SEQUENCE
        assert (gap.expected_seq, gap.received_seq, gap.lost) == (3, 6, 3)
        assert (gap.start_ts, gap.end_ts) == (T0 + 2, T0 + 100)
    assert len(inbound.messages) == 1  # the frame after the gap is still published
    assert session.on_frame(frame(TICKER, 7), T0 + 101).gaps == []


def test_heartbeats_and_acks_count_in_the_sequence() -> None:
    session = new_session()
    beat = {"channel": "heartbeats", "events": [{"heartbeat_counter": 1}]}
    session.on_frame(frame(beat, 10), T0)
    session.on_frame(frame(beat, 11), T0 + 1)
    assert session.on_frame(frame(TICKER, 12), T0 + 2).gaps == []
    assert [g.lost for g in session.on_frame(frame(beat, 14), T0 + 3).gaps] == [1, 1]


def test_repeated_sequence_number_is_a_counted_duplicate_not_a_gap() -> None:
    session = new_session()
    assert len(session.on_frame(frame(TICKER, 4), T0).messages) == 1
    inbound = session.on_frame(frame(TICKER, 4), T0 + 1)
    assert inbound == Inbound(duplicates=1)
    assert session.on_frame(frame(TICKER, 3), T0 + 2) == Inbound(duplicates=1)
    assert len(session.on_frame(frame(TICKER, 5), T0 + 3).messages) == 1


def test_a_new_session_starts_a_new_count() -> None:
    venue = make_venue(settings())
    (plan,) = venue.plan()
    first = venue.session(plan)
    first.on_frame(frame(TICKER, 50), T0)
    assert venue.session(plan).on_frame(frame(TICKER, 0), T0 + 1).gaps == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2]",
        '"ticker"',
        '{"channel": "ticker"}',
        '{"events": []}',
        '{"channel": 5, "events": []}',
        '{"channel": "ticker", "events": {}}',
        '{"channel": "ticker", "events": [], "sequence_num": "7"}',
        '{"channel": "ticker", "events": [], "sequence_num": true}',
        "[" * 100_000,
    ],
)
def test_malformed_frames_are_flagged_and_publish_nothing(text: str) -> None:
    inbound = new_session().on_frame(text, T0)
    assert inbound.malformed is not None
    assert inbound.messages == [] and inbound.gaps == [] and inbound.errors == []


def test_make_reads_settings_and_uses_the_public_endpoint_by_default() -> None:
    venue = make_venue(settings(coinbase_channels="ticker, heartbeats ,market_trades"))
    assert venue.provider == "coinbase"
    assert venue.stale_after_s == coinbase.DEFAULT_STALE_AFTER_S
    assert venue.plan() == [ConnectionPlan(coinbase.DEFAULT_URL, ("BTC-USD", "ETH-USD"))]
    session = venue.session(venue.plan()[0])
    channels = [json.loads(text)["channel"] for text in session.on_open(T0)]
    assert channels == ["ticker", "market_trades", "heartbeats"]


def test_make_takes_a_given_url_and_stale_timeout() -> None:
    venue = make_venue(settings(venue_url="ws://127.0.0.1:9/", stale_after_s=2.5))
    assert venue.plan()[0].url == "ws://127.0.0.1:9/" and venue.stale_after_s == 2.5


@pytest.mark.parametrize("overrides", [{"instruments": " , "}, {"coinbase_channels": "heartbeats"}])
def test_make_refuses_an_empty_subscription(overrides: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        make_venue(settings(**overrides))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["type", "channel", "events", "sequence_num", "product_id", "tickers", "message"]
            ),
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
