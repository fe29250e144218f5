"""CoinGecko daily candles as history rows: the instrument form `coin-id:vs-currency`, the
request windows over a range, and the join of each daily OHLC candle with its volume point."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tickwire_ingest.domain.history.pages import UnknownInstrument, VendorRow

PROVIDER = "coingecko"
DAILY = "ohlcv:1d"

DAY_US = 86_400_000_000
# CoinGecko publishes the last completed UTC day at 00:35 the next day: a candle is final only
# once that has passed.
SETTLE_US = 35 * 60 * 1_000_000
# /coins/{id}/ohlc/range serves at most 180 daily candles per request.
WINDOW_DAYS = 180
# The daily market_chart point is a snapshot taken at (or just after) 00:00 UTC; one taken
# later than this is no longer the day's volume.
VOLUME_LAG_MS = 60 * 60 * 1000


@dataclass(frozen=True)
class Coin:
    """A coin as the command line names it: CoinGecko's coin id and the vs (quote) currency."""

    coin_id: str
    vs_currency: str

    @property
    def name(self) -> str:
        return f"{self.coin_id}:{self.vs_currency}"


def parse_instrument(name: str) -> Coin:
    """`bitcoin:usd` as a Coin; the id and currency are lower-case as CoinGecko writes them."""
    coin_id, sep, vs_currency = name.strip().lower().partition(":")
    if not sep or not coin_id or not vs_currency or "/" in coin_id:
        raise UnknownInstrument(
            f"coingecko: {name!r} is not a coin id and vs currency, e.g. bitcoin:usd "
            "(the coin id is the API id on the coin's CoinGecko page)"
        )
    return Coin(coin_id, vs_currency)


@dataclass(frozen=True)
class Window:
    """Daily bars starting in [start, end) (UTC µs, on the day grid), fetched by one request."""

    start: int
    end: int

    # The window's candles close from start + 1 day to end (CoinGecko stamps the close). The
    # request reaches an hour past both, so whether the vendor's bounds are inclusive does not
    # matter, and the volume point of the last close is in; the span stays under 180 days.
    @property
    def from_s(self) -> int:
        return (self.start + DAY_US - VOLUME_LAG_MS * 1000) // 1_000_000

    @property
    def to_s(self) -> int:
        return (self.end + VOLUME_LAG_MS * 1000) // 1_000_000


def complete_until(until: int, now: int) -> int:
    """The exclusive end of the daily bars that are final at `now`, no later than `until`."""
    return min(until, _floor_day(now - SETTLE_US))


def windows(since: int, until: int, now: int) -> list[Window]:
    """Request windows of at most WINDOW_DAYS covering the complete days in [since, until)."""
    start = -(-since // DAY_US) * DAY_US  # the first whole day
    end = complete_until(until, now)
    out = []
    while start < end:
        stop = min(start + WINDOW_DAYS * DAY_US, end)
        out.append(Window(start, stop))
        start = stop
    return out


def candle_rows(
    coin: Coin,
    symbol: Any,
    window: Window,
    candles: list[Any],
    volumes: list[Any],
    endpoints: dict[str, str],
) -> list[VendorRow]:
    """One row per candle of the window, time-ordered, each joined with the volume point of
    its close. A candle whose time cannot be read is still passed on (with the window's start
    as its time) so that normalize dead-letters it and the run counts it."""
    rows = []
    for candle in candles:
        close_ms = _millis(candle[0]) if isinstance(candle, list) and candle else None
        if close_ms is None:
            ts = window.start
        else:
            # CoinGecko stamps a candle with its close time. One closing after the window's
            # end is not final (the day in progress is stamped with the current time).
            ts = close_ms * 1000 - DAY_US
            if not window.start + DAY_US <= close_ms * 1000 <= window.end:
                continue
        payload = {
            "coin": {"id": coin.coin_id, "symbol": symbol, "from": endpoints["coin"]},
            "vs_currency": coin.vs_currency,
            "ohlc": {"row": candle, "from": endpoints["ohlc"]},
            "total_volume": {
                "row": None if close_ms is None else volume_at(volumes, close_ms),
                "from": endpoints["volume"],
            },
        }
        rows.append(
            VendorRow(
                provider=PROVIDER,
                feed=DAILY,
                instrument=coin.name,
                payload=json.dumps(payload, separators=(",", ":")).encode(),
                ts=ts,
            )
        )
    rows.sort(key=lambda row: row.ts)
    return rows


def volume_at(volumes: list[Any], close_ms: int) -> list[Any] | None:
    """The [ms, volume] point taken at the candle's close, or within VOLUME_LAG_MS after it
    (the earliest such); None when the vendor has none."""
    best: list[Any] | None = None
    for point in volumes:
        at = _millis(point[0]) if isinstance(point, list) and point else None
        if at is None or not close_ms <= at < close_ms + VOLUME_LAG_MS:
            continue
        if best is None or at < best[0]:
            best = point
    return best


def _millis(value: Any) -> int | None:
    # JSON numbers: CoinGecko sends integer milliseconds; a float of whole milliseconds is
    # accepted too, anything else is unreadable.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _floor_day(us: int) -> int:
    return us // DAY_US * DAY_US
