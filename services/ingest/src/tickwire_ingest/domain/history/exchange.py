"""Pure arithmetic of exchange history (Binance, Coinbase, Kraken, Deribit through ccxt): each
venue's datasets and page sizes, the candle grid, which candles have closed, and the cursors
that walk a range with `since`, page by page, without a hole, a repeat or an endless loop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

TRADES = "trades"
OHLCV = "ohlcv:"
MS_US = 1_000  # µs in a ms: the contract speaks µs, ccxt ms
SECOND_MS = 1_000
HOUR_MS = 3_600_000

# The grid the bar schema knows, as ms per candle.
TIMEFRAMES_MS = {
    "1m": 60_000,
    "5m": 300_000,
    "15m": 900_000,
    "1h": 3_600_000,
    "4h": 14_400_000,
    "1d": 86_400_000,
}


@dataclass(frozen=True)
class Venue:
    name: str
    timeframes: tuple[str, ...]  # the grid's timeframes the venue serves (ccxt's `timeframes`)
    ohlcv_limit: int  # candles per request
    ohlcv_until: bool  # the venue takes an end time for candles (else: everything since, up to now)
    ohlcv_depth: int | None  # the venue serves only this many of the latest candles (Kraken)
    trades_limit: int  # trades per request
    trades_window_ms: int | None  # widest [since, until] one trades request may span; None: open
    trades_since_ms: int  # resolution of the venue's `since` for trades (1 s where it is seconds)
    # True: a full trades page holds the NEWEST trades of the window (Coinbase), so the window
    # must narrow; False: the OLDEST from `since` (the others), so the cursor moves to the last.
    trades_newest_first: bool = False


# Limits from the venues' documentation and ccxt's own caps (docs/history/exchanges.md).
VENUES = {
    "binance": Venue(
        "binance", ("1m", "5m", "15m", "1h", "4h", "1d"), 1000, True, None, 1000, HOUR_MS, 1
    ),
    "coinbase": Venue(
        "coinbase", ("1m", "5m", "15m", "1h", "1d"), 300, True, None, 1000, HOUR_MS, SECOND_MS,
        trades_newest_first=True,
    ),
    "kraken": Venue(
        "kraken", ("1m", "5m", "15m", "1h", "4h", "1d"), 720, False, 720, 1000, None, SECOND_MS
    ),
    "deribit": Venue(
        "deribit", ("1m", "5m", "15m", "1h", "1d"), 1000, True, None, 1000, None, 1
    ),
}  # fmt: skip


# Kraken's REST names Bitcoin XBT and Dogecoin XDG (AssetPairs' wsname XBT/USD); its WebSocket v2,
# which the live connector speaks, says BTC/USD.
_KRAKEN_V2_ASSETS = {"XBT": "BTC", "XDG": "DOGE"}


def live_instrument(venue: str, market_id: str, ws_name: str | None) -> str:
    """The name the live connector uses for a market (ticks of both then share it): the market
    id ccxt pages with on Binance, Coinbase and Deribit; on Kraken the WebSocket v2 symbol."""
    if venue != "kraken" or not ws_name:
        return market_id
    return "/".join(_KRAKEN_V2_ASSETS.get(asset, asset) for asset in ws_name.split("/"))


def datasets(venue: Venue) -> list[str]:
    return [f"{OHLCV}{timeframe}" for timeframe in venue.timeframes] + [TRADES]


def timeframe_of(dataset: str) -> str | None:
    """`1h` of `ohlcv:1h`; None for a dataset that is not candles."""
    return dataset[len(OHLCV) :] if dataset.startswith(OHLCV) else None


def grid_ceil(ms: int, step_ms: int) -> int:
    """The first point of the grid at or after `ms` (candles start on it, UTC)."""
    return -(-ms // step_ms) * step_ms


def grid_floor(ms: int, step_ms: int) -> int:
    return ms // step_ms * step_ms


def closed_until(now_ms: int, step_ms: int) -> int:
    """Start of the first candle still open at `now_ms`: every candle before it has closed."""
    return grid_floor(now_ms, step_ms)


def is_closed(start_ms: int, step_ms: int, now_ms: int) -> bool:
    return start_ms + step_ms <= now_ms


@dataclass(frozen=True)
class CandleCursor:
    """Where the next candle request starts (`since`, on the grid) and where the range ends
    (`stop`: exclusive, never past the first open candle)."""

    since: int
    stop: int
    step: int

    @property
    def done(self) -> bool:
        return self.since >= self.stop


def candle_cursor(
    venue: Venue, timeframe: str, since_us: int, until_us: int, now_ms: int
) -> CandleCursor:
    step = TIMEFRAMES_MS[timeframe]
    since = grid_ceil(since_us // MS_US, step)
    stop = min(-(-until_us // MS_US), closed_until(now_ms, step))
    if venue.ohlcv_depth is not None:
        # Older candles than the venue's depth are not served at all, whatever `since` says.
        since = max(since, closed_until(now_ms, step) - (venue.ohlcv_depth - 1) * step)
    return CandleCursor(since, max(stop, since), step)


def candle_window_end(venue: Venue, cursor: CandleCursor) -> int | None:
    """The exclusive end of the next request's window (`until` = this - 1 ms), or None for a
    venue that takes no end time."""
    if not venue.ohlcv_until:
        return None
    return min(cursor.since + venue.ohlcv_limit * cursor.step, cursor.stop)


@dataclass(frozen=True)
class CandleStep:
    keep: list[int]  # indexes of the page's candles to publish
    cursor: CandleCursor  # the next request (done when the range is)
    covered_until: int  # ms: every candle starting before it is fetched


def candle_step(venue: Venue, cursor: CandleCursor, starts: Sequence[int | None]) -> CandleStep:
    """The candles of one page (by start time) to keep, and where the next page starts.

    A candle outside [since, end of the window) is dropped: an open one, one past `until`, the
    overlap a venue sends around `since`, a repeat of a page already read. A candle without a
    time is kept (published as it came, for normalize to dead-letter)."""
    window_end = candle_window_end(venue, cursor)
    upper = cursor.stop if window_end is None else window_end
    keep = [
        index
        for index, start in enumerate(starts)
        if start is None or cursor.since <= start < upper
    ]
    if window_end is not None:
        after = window_end  # the window was asked for in full: all of it is fetched
    else:
        kept = [start for start in starts if start is not None and cursor.since <= start < upper]
        # Nothing new from `since` on: the venue has nothing more up to now.
        after = cursor.stop if not kept else max(kept) + cursor.step
    after = min(after, cursor.stop)
    return CandleStep(keep, replace(cursor, since=after), after)


@dataclass(frozen=True)
class TradeCursor:
    """Where the next trades request starts and ends, and the ids of trades at or after `since`
    that this run has already published (a venue pages by time, so the page after a full one
    repeats the trades at its last instant)."""

    since: int
    stop: int
    window: int | None  # ms the request spans (None: open, up to `stop`)
    published: frozenset[str] = frozenset()

    @property
    def done(self) -> bool:
        return self.since >= self.stop

    @property
    def until(self) -> int:
        """Exclusive end of the request's window."""
        return self.stop if self.window is None else min(self.since + self.window, self.stop)


def trade_cursor(venue: Venue, since_us: int, until_us: int) -> TradeCursor:
    since = grid_floor(since_us // MS_US, venue.trades_since_ms)
    stop = -(-until_us // MS_US)
    return TradeCursor(since, max(stop, since), venue.trades_window_ms)


@dataclass(frozen=True)
class TradeStep:
    keep: list[int]  # indexes of the page's trades to publish
    cursor: TradeCursor  # the next request
    covered_until: int  # ms: every trade before it is fetched
    narrowed: bool = False  # the page was thrown away, to be fetched again over a narrower window
    stuck: bool = False  # a full page within one `since` step: the rest of that step is skipped


def trade_step(
    venue: Venue, cursor: TradeCursor, trades: Sequence[tuple[int | None, str]]
) -> TradeStep:
    """`trades`: (time in ms, identity) of one page, as the venue answered `cursor`."""
    full = len(trades) >= venue.trades_limit
    minimum = venue.trades_since_ms
    window = cursor.window
    if full and venue.trades_newest_first and window is not None and window > minimum:
        narrower = max(window // 2 // minimum * minimum, minimum)
        return TradeStep([], replace(cursor, window=narrower), cursor.since, narrowed=True)
    end = cursor.until
    keep = [
        index
        for index, (ts, key) in enumerate(trades)
        if key not in cursor.published and (ts is None or cursor.since <= ts < end)
    ]
    times = [ts for ts, _ in trades if ts is not None]
    stuck = False
    if full and not venue.trades_newest_first and times:
        # The venue stopped at its page size: go on from the last instant it sent (its trades
        # may continue on the next page), rounded to the venue's resolution of `since`.
        after = grid_floor(max(times), minimum)
        if after <= cursor.since:
            after, stuck = cursor.since + minimum, True
    else:
        after = end  # the window came back whole
        # ... or, on a venue that keeps the newest, its narrowest window was still full.
        stuck = full and venue.trades_newest_first
    after = min(after, cursor.stop)
    # Trades from `after` on may come again in the next page: remember which are published.
    published = frozenset(key for ts, key in trades if ts is not None and after <= ts < end)
    if venue.trades_newest_first and window is not None and venue.trades_window_ms is not None:
        window = min(window * 2, venue.trades_window_ms)  # widen again after a narrow stretch
    next_cursor = TradeCursor(after, cursor.stop, window, published)
    return TradeStep(keep, next_cursor, after, stuck=stuck)
