"""CoinGecko's pure history logic: the instrument form, request windows that never reach a day
that is not final, and the join of candles with their volume points."""

import json
from datetime import UTC, datetime

import pytest

from tickwire_ingest.domain.history import coingecko
from tickwire_ingest.domain.history.coingecko import DAY_US, Coin, Window
from tickwire_ingest.domain.history.pages import UnknownInstrument

ENDPOINTS = {"coin": "/coins/bitcoin", "ohlc": "/o", "volume": "/v"}
BITCOIN = Coin("bitcoin", "usd")


def us(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp()) * 1_000_000


def ms(*parts: int) -> int:
    return us(*parts) // 1000


def test_instrument_is_a_coin_id_and_a_vs_currency() -> None:
    assert coingecko.parse_instrument("Bitcoin:USD") == Coin("bitcoin", "usd")
    assert coingecko.parse_instrument("bitcoin:usd").name == "bitcoin:usd"


@pytest.mark.parametrize("name", ["bitcoin", ":usd", "bitcoin:", "a/b:usd", ""])
def test_a_name_not_of_that_form_is_refused_with_an_example(name: str) -> None:
    with pytest.raises(UnknownInstrument, match="bitcoin:usd"):
        coingecko.parse_instrument(name)


def test_windows_cover_whole_days_in_steps_of_180() -> None:
    now = us(2024, 12, 1, 12)
    plan = coingecko.windows(us(2024, 1, 1, 6), us(2024, 8, 1), now)
    # The first day is whole from 2024-01-02; 212 days in two windows.
    assert plan == [
        Window(us(2024, 1, 2), us(2024, 1, 2) + 180 * DAY_US),
        Window(us(2024, 1, 2) + 180 * DAY_US, us(2024, 8, 1)),
    ]


def test_a_window_asks_from_an_hour_before_its_first_close_to_an_hour_after_its_last() -> None:
    window = Window(us(2024, 1, 2), us(2024, 1, 2) + 180 * DAY_US)
    assert window.from_s == us(2024, 1, 2, 23) // 1_000_000
    assert window.to_s == (window.end + 3600 * 1_000_000) // 1_000_000
    assert window.to_s - window.from_s < 180 * 86_400  # within /ohlc/range's 180 days


def test_the_day_in_progress_and_one_not_yet_settled_are_never_asked_for() -> None:
    # At 00:20 on 3 March, 2 March is over but CoinGecko finalises it at 00:35.
    assert coingecko.complete_until(us(2024, 4, 1), us(2024, 3, 3, 0, 20)) == us(2024, 3, 2)
    assert coingecko.complete_until(us(2024, 4, 1), us(2024, 3, 3, 0, 35)) == us(2024, 3, 3)
    assert coingecko.complete_until(us(2024, 2, 1), us(2024, 3, 3)) == us(2024, 2, 1)


def test_a_range_with_no_complete_day_has_no_windows() -> None:
    assert coingecko.windows(us(2024, 3, 3), us(2024, 3, 4), us(2024, 3, 3, 18)) == []
    assert coingecko.windows(us(2024, 3, 3, 1), us(2024, 3, 4), us(2024, 5, 1)) == []


def candle(close_ms: int, *ohlc: object) -> list[object]:
    return [close_ms, *(ohlc or (100, 110, 90, 105))]


def payloads(rows: list[coingecko.VendorRow]) -> list[dict[str, object]]:
    return [json.loads(row.payload) for row in rows]


def test_each_candle_becomes_a_row_at_its_bar_start_with_its_volume_point() -> None:
    window = Window(us(2024, 3, 1), us(2024, 3, 3))
    candles = [candle(ms(2024, 3, 3), 2, 3, 1, 2.5), candle(ms(2024, 3, 2))]
    volumes = [[ms(2024, 3, 2), 1e9], [ms(2024, 3, 3), 2e9], [ms(2024, 3, 3, 10), 9e9]]
    rows = coingecko.candle_rows(BITCOIN, "btc", window, candles, volumes, ENDPOINTS)
    assert [row.ts for row in rows] == [us(2024, 3, 1), us(2024, 3, 2)]  # time-ordered
    assert {(row.provider, row.feed, row.instrument) for row in rows} == {
        ("coingecko", "ohlcv:1d", "bitcoin:usd")
    }
    assert payloads(rows)[1] == {
        "coin": {"id": "bitcoin", "symbol": "btc", "from": "/coins/bitcoin"},
        "vs_currency": "usd",
        "ohlc": {"row": [ms(2024, 3, 3), 2, 3, 1, 2.5], "from": "/o"},
        "total_volume": {"row": [ms(2024, 3, 3), 2e9], "from": "/v"},
    }


def test_candles_outside_the_window_or_not_yet_closed_are_dropped() -> None:
    window = Window(us(2024, 3, 1), us(2024, 3, 3))
    candles = [
        candle(ms(2024, 3, 1)),  # the day before the window
        candle(ms(2024, 3, 2)),
        candle(ms(2024, 3, 3, 14, 5)),  # the day in progress, stamped with the current time
        candle(ms(2024, 3, 4)),
    ]
    rows = coingecko.candle_rows(BITCOIN, "btc", window, candles, [], ENDPOINTS)
    assert [row.ts for row in rows] == [us(2024, 3, 1)]


def test_a_volume_point_is_the_first_within_an_hour_after_the_close() -> None:
    close = ms(2024, 3, 2)
    points = [[close - 1, 1.0], [close + 3_600_000, 2.0], [close + 60_000, 3.0], [close + 5, 4.0]]
    assert coingecko.volume_at(points, close) == [close + 5, 4.0]
    assert coingecko.volume_at([[close - 1, 1.0], ["x", 2.0], "junk"], close) is None


def test_a_candle_whose_time_cannot_be_read_is_passed_on_at_the_window_start() -> None:
    window = Window(us(2024, 3, 1), us(2024, 3, 3))
    candles = [candle(ms(2024, 3, 2)), "junk", [None, 1, 2, 3, 4], []]
    rows = coingecko.candle_rows(BITCOIN, "btc", window, candles, [], ENDPOINTS)
    assert [row.ts for row in rows] == [window.start] * 4
    assert [p["ohlc"]["row"] for p in payloads(rows)] == candles
    assert all(p["total_volume"]["row"] is None for p in payloads(rows))
