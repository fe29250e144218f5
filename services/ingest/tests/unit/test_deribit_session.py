"""Deribit's protocol, frames in and meaning out: the subscription it asks for, ticker
notifications published unchanged, heartbeats answered, subscription results and errors."""

import json

import pytest

from tickwire_core.errors import ConfigError
from tickwire_ingest.connectors import make_venue
from tickwire_ingest.domain.protocol import Inbound
from tickwire_ingest.domain.venues import deribit
from tickwire_ingest.domain.venues.deribit import DeribitSession, DeribitVenue
from tickwire_ingest.settings import IngestSettings

T0 = 1_700_000_000_000_000

# The ticker notification of Deribit's documentation (ticker.{instrument_name}.{interval}).
TICKER = {
    "jsonrpc": "2.0",
    "method": "subscription",
    "params": {
        "channel": "ticker.BTC-PERPETUAL.100ms",
        "data": {
            "best_ask_amount": 100,
            "best_ask_price": 36443,
            "best_bid_amount": 5000,
            "best_bid_price": 36442.5,
            "instrument_name": "BTC-PERPETUAL",
            "last_price": 36457.5,
            "mark_price": 36446.51,
            "state": "open",
            "stats": {"high": 36824.5, "low": 35213.5, "volume": 7871.02139035},
            "timestamp": 1623060194301,
        },
    },
}


def opened(
    instruments: tuple[str, ...] = ("BTC-PERPETUAL", "ETH-PERPETUAL"),
) -> tuple[DeribitSession, list[dict]]:
    venue = DeribitVenue(instruments, interval="100ms", heartbeat_s=15, rate_limit_wait_s=2.5)
    session = venue.session(venue.plan()[0])
    return session, [json.loads(frame) for frame in session.on_open(T0)]


def answer(request: dict, result: object) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result})


def error(request_id: int | None, code: int, message: str) -> str:
    body = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    return json.dumps(body)


def test_on_open_sets_the_heartbeat_then_subscribes_to_every_ticker() -> None:
    _, (heartbeat, subscribe) = opened()
    assert heartbeat["method"] == "public/set_heartbeat"
    assert heartbeat["params"] == {"interval": 15}
    assert subscribe["method"] == "public/subscribe"
    assert subscribe["params"] == {
        "channels": ["ticker.BTC-PERPETUAL.100ms", "ticker.ETH-PERPETUAL.100ms"]
    }
    assert heartbeat["jsonrpc"] == subscribe["jsonrpc"] == "2.0"
    assert heartbeat["id"] != subscribe["id"]


def test_a_ticker_notification_is_one_message_with_the_frame_unchanged() -> None:
    session, _ = opened()
    text = json.dumps(TICKER, indent=1)  # spacing kept: the payload is the bytes as received
    inbound = session.on_frame(text, T0 + 5)
    assert len(inbound.messages) == 1
    message = inbound.messages[0]
    assert (message.feed, message.instrument, message.received_ts) == (
        "ticker",
        "BTC-PERPETUAL",
        T0 + 5,
    )
    assert message.payload == text.encode()
    assert not inbound.heartbeat and not inbound.errors and inbound.malformed is None


def test_the_instrument_comes_from_the_channel() -> None:
    session, _ = opened()
    frame = json.loads(json.dumps(TICKER))
    frame["params"]["channel"] = "ticker.ETH-PERPETUAL.100ms"
    inbound = session.on_frame(json.dumps(frame), T0)
    assert [m.instrument for m in inbound.messages] == ["ETH-PERPETUAL"]


def test_a_test_request_is_answered_at_once_with_public_test() -> None:
    session, _ = opened()
    frame = {"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}}
    inbound = session.on_frame(json.dumps(frame), T0)
    assert inbound.heartbeat
    assert [json.loads(r)["method"] for r in inbound.replies] == ["public/test"]
    assert not inbound.messages


def test_a_heartbeat_is_a_heartbeat_and_needs_no_answer() -> None:
    session, _ = opened()
    frame = {"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "heartbeat"}}
    inbound = session.on_frame(json.dumps(frame), T0)
    assert inbound.heartbeat and not inbound.replies and not inbound.messages


def test_the_subscription_result_confirms_the_channels() -> None:
    session, (_, subscribe) = opened()
    channels = subscribe["params"]["channels"]
    inbound = session.on_frame(answer(subscribe, channels), T0)
    assert inbound.subscribed == channels
    assert not inbound.errors


def test_channels_left_out_of_the_result_are_reported() -> None:
    session, (_, subscribe) = opened(("BTC-PERPETUAL", "NOPE-PERPETUAL"))
    inbound = session.on_frame(answer(subscribe, ["ticker.BTC-PERPETUAL.100ms"]), T0)
    assert inbound.subscribed == ["ticker.BTC-PERPETUAL.100ms"]
    assert len(inbound.errors) == 1 and "ticker.NOPE-PERPETUAL.100ms" in inbound.errors[0]


def test_other_results_mean_nothing_to_do() -> None:
    session, (heartbeat, _) = opened()
    assert session.on_frame(answer(heartbeat, "ok"), T0) == Inbound()
    assert session.on_frame(answer({"id": 999}, {"version": "1.2.26"}), T0) == Inbound()


def test_too_many_requests_asks_to_wait_before_reconnecting() -> None:
    session, (_, subscribe) = opened()
    inbound = session.on_frame(error(subscribe["id"], 10028, "too_many_requests"), T0)
    assert inbound.retry_after_s == 2.5
    assert len(inbound.errors) == 1
    assert "public/subscribe" in inbound.errors[0] and "10028" in inbound.errors[0]


def test_other_errors_are_reported_without_a_wait() -> None:
    session, (_, subscribe) = opened()
    inbound = session.on_frame(error(subscribe["id"], -32602, "Invalid params"), T0)
    assert inbound.retry_after_s is None
    assert inbound.errors == ["public/subscribe: error -32602 Invalid params"]
    orphan = session.on_frame(error(None, 11050, "bad_request"), T0)
    assert orphan.errors == ["request None: error 11050 bad_request"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"jsonrpc": "2.0", "method": "subscription", "params": {}}', "without a channel"),
        (
            json.dumps({**TICKER, "params": {"channel": "ticker.SOL-PERPETUAL.100ms", "data": {}}}),
            "not subscribed here",
        ),
        ('{"jsonrpc": "2.0", "usIn": 1}', "neither"),
    ],
)
def test_frames_that_make_no_sense_are_malformed(text: str, why: str) -> None:
    session, _ = opened()
    inbound = session.on_frame(text, T0)
    assert inbound.malformed is not None and why in inbound.malformed
    assert not inbound.messages


def test_the_venue_has_one_plan_and_a_stale_timeout_beyond_the_heartbeat() -> None:
    venue = DeribitVenue(("BTC-PERPETUAL", "ETH-PERPETUAL"), heartbeat_s=30)
    assert venue.plan()[0].instruments == ("BTC-PERPETUAL", "ETH-PERPETUAL")
    assert venue.plan()[0].url == "wss://www.deribit.com/ws/api/v2"
    assert venue.stale_after_s > 30
    assert venue.max_connection_age_s is None


def settings(**values: object) -> IngestSettings:
    return IngestSettings(kafka_bootstrap_servers="localhost:9092", **values)


def test_make_venue_builds_deribit_from_the_settings() -> None:
    venue = make_venue(
        settings(
            connector="deribit",
            instruments="BTC-PERPETUAL, ETH-PERPETUAL",
            deribit_interval="raw",
            deribit_heartbeat_s=20,
            venue_url="wss://test.deribit.com/ws/api/v2",
        )
    )
    assert isinstance(venue, DeribitVenue)
    assert venue.provider == deribit.PROVIDER
    assert venue.plan()[0].url == "wss://test.deribit.com/ws/api/v2"
    subscribe = json.loads(venue.session(venue.plan()[0]).on_open(T0)[1])
    assert subscribe["params"]["channels"] == [
        "ticker.BTC-PERPETUAL.raw",
        "ticker.ETH-PERPETUAL.raw",
    ]


def test_make_venue_refuses_deribit_without_instruments_and_unknown_connectors() -> None:
    with pytest.raises(ConfigError, match="TICKWIRE_INSTRUMENTS"):
        make_venue(settings(connector="deribit"))
    with pytest.raises(ConfigError, match="simulator"):
        make_venue(settings(connector="simulator"))
