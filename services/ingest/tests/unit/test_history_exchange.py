"""Exchange history's pure logic: the candle grid and which candles have closed, the cursors that
walk a range page by page (overlaps published once, no endless loop), and the live names."""

import pytest

from tickwire_ingest.domain.history import exchange
from tickwire_ingest.domain.history.exchange import VENUES, TradeCursor

T0 = 1_709_251_200_000  # 2024-03-01T00:00:00Z, ms
H = 3_600_000
BINANCE, KRAKEN, COINBASE, DERIBIT = (
    VENUES[v] for v in ("binance", "kraken", "coinbase", "deribit")
)


def test_datasets_are_the_grid_the_venue_serves_and_trades() -> None:
    assert exchange.datasets(BINANCE) == [
        "ohlcv:1m", "ohlcv:5m", "ohlcv:15m", "ohlcv:1h", "ohlcv:4h", "ohlcv:1d", "trades",
    ]  # fmt: skip
    assert "ohlcv:4h" not in exchange.datasets(COINBASE)  # Coinbase has no 4-hour candles
    assert "ohlcv:4h" not in exchange.datasets(DERIBIT)
    assert exchange.timeframe_of("ohlcv:15m") == "15m"
    assert exchange.timeframe_of("trades") is None


def test_grid_and_closed_candles() -> None:
    assert exchange.grid_ceil(T0 + 1, H) == T0 + H
    assert exchange.grid_ceil(T0, H) == T0
    assert exchange.grid_floor(T0 + H - 1, H) == T0
    assert exchange.closed_until(T0 + H + 5, H) == T0 + H
    assert exchange.is_closed(T0, H, T0 + H)
    assert not exchange.is_closed(T0, H, T0 + H - 1)


def test_candle_range_starts_on_the_grid_and_stops_at_the_first_open_candle() -> None:
    cursor = exchange.candle_cursor(
        BINANCE, "1h", (T0 + 1) * 1000, (T0 + 10 * H) * 1000, T0 + 5 * H + 1
    )
    assert (cursor.since, cursor.stop, cursor.step) == (T0 + H, T0 + 5 * H, H)
    ended = exchange.candle_cursor(BINANCE, "1h", T0 * 1000, (T0 + 3 * H + 1) * 1000, T0 + 99 * H)
    assert ended.stop == T0 + 3 * H + 1  # a candle starting before `until` is in the range


def test_kraken_serves_only_its_latest_720_candles() -> None:
    now = T0 + 1000 * H + 30 * 60_000
    cursor = exchange.candle_cursor(KRAKEN, "1h", T0 * 1000, now * 1000, now)
    assert cursor.since == T0 + (1000 - 719) * H
    assert cursor.stop == T0 + 1000 * H


def test_a_window_venue_walks_whole_windows() -> None:
    cursor = exchange.candle_cursor(BINANCE, "1h", T0 * 1000, (T0 + 1500 * H) * 1000, T0 + 9999 * H)
    assert exchange.candle_window_end(BINANCE, cursor) == T0 + 1000 * H
    starts = [T0 - H, T0, T0 + H, T0 + 1000 * H, None]
    step = exchange.candle_step(BINANCE, cursor, starts)
    assert step.keep == [1, 2, 4]  # before `since` and past the window: dropped; no time: kept
    assert step.covered_until == step.cursor.since == T0 + 1000 * H
    last = exchange.candle_step(BINANCE, step.cursor, [])  # an empty window still moves on
    assert last.cursor.done and last.covered_until == T0 + 1500 * H


def test_an_open_ended_venue_goes_on_after_its_last_candle_until_nothing_is_new() -> None:
    cursor = exchange.candle_cursor(KRAKEN, "1h", T0 * 1000, T0 * 1000 + 10 * H * 1000, T0 + 6 * H)
    assert exchange.candle_window_end(KRAKEN, cursor) is None
    first = exchange.candle_step(KRAKEN, cursor, [T0, T0 + H, T0 + 2 * H])
    assert first.cursor.since == T0 + 3 * H and not first.cursor.done
    again = exchange.candle_step(KRAKEN, first.cursor, [T0 + H, T0 + 2 * H])  # the same rows
    assert again.keep == [] and again.cursor.done  # no endless loop
    opened = exchange.candle_step(KRAKEN, first.cursor, [T0 + 3 * H, T0 + 6 * H])
    assert opened.keep == [0]  # the open candle (starts at the stop) is never published
    assert opened.covered_until == T0 + 4 * H


def trades(*times: int | None, first_id: int = 1) -> list[tuple[int | None, str]]:
    return [(ts, str(first_id + i)) for i, ts in enumerate(times)]


def full_page(venue: exchange.Venue, start: int, last: int) -> list[tuple[int | None, str]]:
    times = [start + i for i in range(venue.trades_limit - 1)] + [last]
    return trades(*times)


def test_binance_trades_walk_hour_windows() -> None:
    cursor = exchange.trade_cursor(BINANCE, T0 * 1000, (T0 + 2 * H) * 1000)
    assert cursor.until == T0 + H
    step = exchange.trade_step(BINANCE, cursor, trades(T0, T0 + 5))  # a short page: window done
    assert step.covered_until == T0 + H and step.cursor.since == T0 + H
    assert step.cursor.published == frozenset()


def test_a_full_page_goes_on_from_its_last_instant_and_publishes_the_overlap_once() -> None:
    cursor = exchange.trade_cursor(BINANCE, T0 * 1000, (T0 + H) * 1000)
    page = full_page(BINANCE, T0, T0 + 5000)
    page[-2] = (T0 + 5000, page[-2][1])  # two trades at the last millisecond
    step = exchange.trade_step(BINANCE, cursor, page)
    assert len(step.keep) == BINANCE.trades_limit
    assert step.cursor.since == step.covered_until == T0 + 5000
    assert step.cursor.published == {page[-1][1], page[-2][1]}
    following = [page[-2], page[-1], (T0 + 5001, "new")]
    nxt = exchange.trade_step(BINANCE, step.cursor, following)
    assert nxt.keep == [2]


def test_a_full_page_within_one_instant_skips_ahead_instead_of_looping() -> None:
    cursor = TradeCursor(T0, T0 + H, H)
    step = exchange.trade_step(BINANCE, cursor, trades(*[T0] * BINANCE.trades_limit))
    assert step.stuck and step.cursor.since == T0 + 1
    kraken = exchange.trade_cursor(KRAKEN, (T0 + 700) * 1000, (T0 + H) * 1000)
    assert kraken.since == T0  # Kraken's `since` is in seconds
    step = exchange.trade_step(KRAKEN, kraken, trades(*[T0 + 10] * KRAKEN.trades_limit))
    assert step.stuck and step.cursor.since == T0 + 1000


def test_kraken_trades_are_open_ended_a_short_page_ends_the_range() -> None:
    cursor = exchange.trade_cursor(KRAKEN, T0 * 1000, (T0 + H) * 1000)
    assert cursor.window is None and cursor.until == T0 + H
    step = exchange.trade_step(KRAKEN, cursor, trades(T0 + 1, T0 + H, T0 + H + 1))
    assert step.keep == [0]  # trades at or after `until` wait for a later run
    assert step.cursor.done and step.covered_until == T0 + H


def test_coinbase_narrows_a_window_that_came_back_full_then_widens_again() -> None:
    cursor = exchange.trade_cursor(COINBASE, T0 * 1000, (T0 + 2 * H) * 1000)
    full = exchange.trade_step(COINBASE, cursor, full_page(COINBASE, T0 + H - 5000, T0 + H - 1))
    assert full.narrowed and full.keep == [] and full.cursor.window == H // 2
    assert full.cursor.since == T0 and full.covered_until == T0
    half = exchange.trade_step(COINBASE, full.cursor, trades(T0 + 1, T0 + H // 2 - 1))
    assert half.keep == [0, 1] and half.cursor.since == T0 + H // 2 and half.cursor.window == H


def test_coinbase_at_its_narrowest_window_takes_what_came_and_says_so() -> None:
    cursor = TradeCursor(T0, T0 + H, 1000)
    step = exchange.trade_step(COINBASE, cursor, full_page(COINBASE, T0, T0 + 999))
    assert step.stuck and not step.narrowed and step.cursor.since == T0 + 1000


@pytest.mark.parametrize(
    ("venue", "market_id", "ws_name", "live"),
    [
        ("binance", "BTCUSDT", None, "BTCUSDT"),
        ("coinbase", "BTC-USD", None, "BTC-USD"),
        ("deribit", "BTC-PERPETUAL", None, "BTC-PERPETUAL"),
        ("kraken", "XXBTZUSD", "XBT/USD", "BTC/USD"),
        ("kraken", "XETHXXBT", "ETH/XBT", "ETH/BTC"),
        ("kraken", "XDGUSD", "XDG/USD", "DOGE/USD"),
        ("kraken", "SOLUSD", "SOL/USD", "SOL/USD"),
    ],
)
def test_rows_carry_the_name_the_live_connector_uses(
    venue: str, market_id: str, ws_name: str | None, live: str
) -> None:
    assert exchange.live_instrument(venue, market_id, ws_name) == live
