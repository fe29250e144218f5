"""A history source made up in Python for the backfill benchmark: Binance 1-minute candles as ccxt
returns them ([ms, o, h, l, c, v], valid OHLC), 1,000 a page, and `tickwire` with it added.

The rows are what ExchangeSource("binance") publishes for `ohlcv:1m` (provider binance, the
market id as instrument, the candle as compact JSON), so normalize maps them with the exchange
mapping; only the vendor's HTTP is left out. Each instrument's walk is seeded by its name and
starts from the range's first minute, so the same range always gives the same candles.
Run as a script, it is `tickwire` with the source `synthetic-binance` added:
python benchmarks/synthetic_history.py backfill synthetic-binance --instruments ... --interval 1m"""

from __future__ import annotations

import random
import sys
import zlib
from collections.abc import Iterator

from tickwire_ingest.adapters.history import sources
from tickwire_ingest.domain.history.pages import Page, Request, UnknownInstrument, VendorRow
from tickwire_ingest.history_settings import HistorySettings

NAME = "synthetic-binance"
PROVIDER = "binance"
DATASET = "ohlcv:1m"
MINUTE_MS = 60_000
MS_US = 1_000
PAGE = 1_000  # Binance's klines limit, as ccxt pages them
# Market id: (first open, price decimals, volume decimals), near Binance's own tick and lot sizes.
MARKETS = {
    "BTCUSDT": (65_000.0, 2, 5),
    "ETHUSDT": (3_500.0, 2, 4),
    "SOLUSDT": (150.0, 2, 3),
    "BNBBTC": (0.0091, 6, 3),
}


def candle(
    rng: random.Random, start_ms: int, open_: float, prices: int, sizes: int
) -> tuple[bytes, float]:
    """One closed minute as compact JSON, as ExchangeSource publishes it, and its close (the
    next minute's open): the close walks from the open, high and low bound both. Floats written
    with repr, as json.dumps writes them, without json.dumps' cost per call."""
    close = round(open_ * (1 + rng.gauss(0.0, 0.0008)), prices)
    high = round(max(open_, close) * (1 + 0.0005 * rng.random()), prices)
    low = round(min(open_, close) * (1 - 0.0005 * rng.random()), prices)
    volume = round(20 * rng.random() + 0.001, sizes)
    # Rounding is monotonic, so high >= max(open, close) and low <= min(open, close) still hold.
    return f"[{start_ms},{open_!r},{high!r},{low!r},{close!r},{volume!r}]".encode(), close


class SyntheticCandles:
    name = NAME
    grouped = False

    def datasets(self) -> list[str]:
        return [DATASET]

    def fetch(self, request: Request) -> Iterator[Page]:
        if request.instrument not in MARKETS:
            raise UnknownInstrument(f"{NAME} does not list {request.instrument!r}")
        first_open, prices, sizes = MARKETS[request.instrument]
        since_ms = -(-request.since // MS_US // MINUTE_MS) * MINUTE_MS  # the first whole minute
        until_ms = request.until // MS_US
        rng = random.Random(zlib.crc32(f"{request.instrument}:{since_ms}".encode()))
        open_, start = first_open, since_ms
        while start + MINUTE_MS <= until_ms:  # closed candles only, never one at or after until
            rows = []
            while len(rows) < PAGE and start + MINUTE_MS <= until_ms:
                payload, open_ = candle(rng, start, open_, prices, sizes)
                rows.append(
                    VendorRow(PROVIDER, DATASET, request.instrument, payload, start * MS_US)
                )
                start += MINUTE_MS
            yield Page(rows, min(start * MS_US, request.until))


def _build(settings: HistorySettings) -> SyntheticCandles:
    return SyntheticCandles()


def register() -> None:
    sources.SOURCES[NAME] = _build


if __name__ == "__main__":
    register()
    from tickwire_cli.__main__ import main

    raise SystemExit(main(sys.argv[1:]))
