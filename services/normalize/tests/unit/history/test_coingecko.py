"""The CoinGecko history mapping: a daily candle joined with its volume point becomes one vendor
bar (every field), and each kind of bad row is rejected with its reason."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.history import BAR, HistoryRow, Mapped, coingecko
from tickwire_normalize.domain.history.registry import HISTORY_MAPPINGS

CLOSE_MS = 1_709_424_000_000  # 2024-03-03T00:00Z: the candle of 2 March
RECEIVED = 1_720_000_000_000_000


def payload() -> dict[str, Any]:
    return {
        "coin": {"id": "bitcoin", "symbol": "btc", "from": "/coins/bitcoin"},
        "vs_currency": "usd",
        "ohlc": {"row": [CLOSE_MS, 61942, 62211, 61721.5, 61845], "from": "/coins/bitcoin/ohlc"},
        "total_volume": {
            "row": [CLOSE_MS, 14305769170.9498],
            "from": "/coins/bitcoin/market_chart/range",
        },
    }


def mapped(message: Any, feed: str = "ohlcv:1d") -> list[Mapped]:
    return coingecko.map_row(HistoryRow("coingecko", feed, "bitcoin:usd", RECEIVED, message))


def test_a_candle_and_its_volume_are_one_bar_of_the_day_before_the_close() -> None:
    assert mapped(payload()) == [
        Mapped(
            BAR,
            {
                "provider": "coingecko",
                "instrument": "BTC-USD",
                "interval": "1d",
                "start_ts": 1_709_337_600_000_000,  # 2024-03-02T00:00Z
                "open": 61942.0,
                "high": 62211.0,
                "low": 61721.5,
                "close": 61845.0,
                "volume": 14305769170.9498,
                "tick_count": 0,
                "source": "coingecko",
                "adj_close": None,
            },
        )
    ]


def test_the_mapping_is_registered_under_its_provider() -> None:
    assert HISTORY_MAPPINGS["coingecko"] is coingecko.map_row


def test_the_unified_name_is_the_symbol_and_vs_currency_upper_case() -> None:
    message = payload()
    message["coin"]["symbol"], message["vs_currency"] = "eth", "eur"
    assert mapped(message)[0].record["instrument"] == "ETH-EUR"


def changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    message = payload()
    target: Any = message
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return message


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ([1, 2, 3], reasons.UNDECODABLE_PAYLOAD),
        (changed(("ohlc", "row"), [CLOSE_MS, 1, 2, 3]), reasons.UNDECODABLE_PAYLOAD),
        (changed(("ohlc", "row"), "1709424000000"), reasons.UNDECODABLE_PAYLOAD),
        (changed(("ohlc",), [CLOSE_MS, 1, 2, 3, 4]), reasons.UNDECODABLE_PAYLOAD),
        (changed(("ohlc",), KeyError), reasons.MISSING_VALUE),
        (changed(("ohlc", "row", 0), None), reasons.MISSING_IDENTITY),
        (changed(("ohlc", "row", 0), 1.5), reasons.UNDECODABLE_PAYLOAD),
        (changed(("ohlc", "row", 1), "abc"), reasons.UNDECODABLE_PAYLOAD),
        (changed(("ohlc", "row", 2), [1]), reasons.UNDECODABLE_PAYLOAD),
        (changed(("ohlc", "row", 3), None), reasons.MISSING_VALUE),
        (changed(("ohlc", "row", 4), 10**400), reasons.NON_FINITE),
        (changed(("total_volume", "row"), None), reasons.MISSING_VALUE),
        (changed(("total_volume", "row"), [CLOSE_MS]), reasons.UNDECODABLE_PAYLOAD),
        (changed(("total_volume", "row", 1), None), reasons.MISSING_VALUE),
        (changed(("total_volume", "row", 1), True), reasons.UNDECODABLE_PAYLOAD),
        (changed(("coin", "symbol"), None), reasons.MISSING_IDENTITY),
        (changed(("coin",), KeyError), reasons.MISSING_IDENTITY),
        (changed(("coin",), "bitcoin"), reasons.UNDECODABLE_PAYLOAD),
        (changed(("vs_currency",), KeyError), reasons.MISSING_IDENTITY),
        (changed(("coin", "symbol"), "usdc.e"), reasons.MISSING_IDENTITY),
        (changed(("vs_currency",), 840), reasons.MISSING_IDENTITY),
    ],
)
def test_a_bad_row_is_rejected_with_its_reason(message: Any, reason: str) -> None:
    with pytest.raises(RejectedRecord) as caught:
        mapped(copy.deepcopy(message))
    assert caught.value.reason == reason


def test_a_feed_the_mapping_does_not_know_is_rejected() -> None:
    with pytest.raises(RejectedRecord) as caught:
        mapped(payload(), feed="ohlcv:4d")
    assert caught.value.reason == reasons.UNKNOWN_MESSAGE
