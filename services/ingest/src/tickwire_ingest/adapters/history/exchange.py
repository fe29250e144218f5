"""History of the crypto venues the live connectors speak (Binance, Coinbase, Kraken, Deribit)
through ccxt: closed OHLCV candles and public trades, paged with `since`, retried with tenacity."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import ccxt  # type: ignore[import-untyped]  # ccxt ships no type information

from tickwire_ingest.adapters.history.http import RetryPolicy, retry_after_s, retrying
from tickwire_ingest.domain.history import exchange as domain
from tickwire_ingest.domain.history.pages import (
    Page,
    Request,
    SourceUnavailable,
    UnknownInstrument,
    VendorRow,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# ccxt's errors that pass: timeouts, broken connections, 429 (RateLimitExceeded, a
# DDoSProtection), 5xx (ExchangeNotAvailable): all NetworkError. The rest are answers.
_TRANSIENT = (ccxt.NetworkError,)
_RATE_LIMITED = (ccxt.DDoSProtection,)

# Only the markets the live connectors speak, which keeps load_markets to the calls it needs.
_OPTIONS: dict[str, dict[str, Any]] = {"binance": {"fetchMarkets": {"types": ["spot"]}}}


class _Unreadable(ccxt.NetworkError):  # type: ignore[misc]
    """An answer that is not JSON (a cut-off body): ccxt would read it as no data at all."""


def rewrite_urls(api: Any, base_url: str) -> Any:
    """ccxt's `urls['api']` (a URL or a dict of them, nested) with each URL's scheme and host
    replaced by `base_url`'s, its path kept after `base_url`'s path: every endpoint of the
    venue, on whichever of its hosts (Binance has api., fapi., dapi., ...), lands on one server
    with the path the venue documents."""
    if isinstance(api, dict):
        return {key: rewrite_urls(value, base_url) for key, value in api.items()}
    if not isinstance(api, str):
        return api
    base = urlsplit(base_url)
    url = urlsplit(api)
    path = base.path.rstrip("/") + url.path
    return urlunsplit((base.scheme, base.netloc, path, url.query, url.fragment))


class ExchangeSource:
    """One venue's history: `ohlcv:<tf>` (closed candles) and `trades`, for a market named by
    its ccxt symbol (BTC/USDT) or the venue's id (BTCUSDT); rows carry the live name.

    `rate_limit_ms`: ccxt's pause between requests (None: the venue's own in ccxt, or the
    policy's pause if longer); `clock`: the fetch time, which decides which candles have closed."""

    grouped = False

    def __init__(
        self,
        venue: str,
        base_url: str | None = None,
        policy: RetryPolicy | None = None,
        rate_limit_ms: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if venue not in domain.VENUES:
            raise ValueError(f"no exchange history for {venue!r}; venues: {sorted(domain.VENUES)}")
        self.name = venue
        self.venue = domain.VENUES[venue]
        self.policy = policy or RetryPolicy()
        self.retries = 0  # transient failures seen, for the run's report
        self._clock = clock
        self.exchange: ccxt.Exchange = getattr(ccxt, venue)(
            {
                "enableRateLimit": True,
                "timeout": int(self.policy.timeout_s * 1000),
                "options": _OPTIONS.get(venue, {}),
            }
        )
        # ccxt's pace per venue is the floor a policy may only slow down; tests set their own.
        self.exchange.rateLimit = (
            rate_limit_ms
            if rate_limit_ms is not None
            else max(float(self.exchange.rateLimit), self.policy.pause_s * 1000)
        )
        if base_url:
            self.exchange.urls["api"] = rewrite_urls(self.exchange.urls["api"], base_url)
        # ccxt returns a body it cannot parse as text, which its readers take for "no data":
        # every venue here answers JSON, so text is a cut-off answer, retried like a 5xx.
        fetch = self.exchange.fetch

        def fetch_json(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
            answer = fetch(url, method, headers, body)
            if isinstance(answer, str):
                raise _Unreadable(f"{venue} {method} {url}: the answer is not JSON")
            return answer

        self.exchange.fetch = fetch_json
        self._markets: dict[str, dict[str, Any]] | None = None

    def datasets(self) -> list[str]:
        return domain.datasets(self.venue)

    def fetch(self, request: Request) -> Iterator[Page]:
        market = self.market(request.instrument)
        timeframe = domain.timeframe_of(request.dataset)
        if timeframe in self.venue.timeframes:
            yield from self._candles(market, request, timeframe)
        elif request.dataset == domain.TRADES:
            yield from self._trades(market, request)
        else:
            raise ValueError(f"{self.name} has no dataset {request.dataset!r}: {self.datasets()}")

    def market(self, name: str) -> dict[str, Any]:
        """The ccxt market named by its symbol, the venue's id or the live name."""
        if self._markets is None:
            self._call(self.exchange.load_markets)
            self._markets = {}
            for market in self.exchange.markets.values():
                for key in (market["symbol"], market["id"], self._live_name(market)):
                    self._markets.setdefault(key, market)
        market = self._markets.get(name) or self._markets.get(name.upper())
        if market is None:
            raise UnknownInstrument(
                f"{self.name} does not list {name!r} ({len(self.exchange.markets)} markets "
                f"from {self.exchange.urls['api']!s:.80}); name it as ccxt does (BTC/USDT) or "
                "as the venue does (BTCUSDT)"
            )
        return market

    def _live_name(self, market: dict[str, Any]) -> str:
        return domain.live_instrument(self.name, market["id"], market.get("wsId"))

    def _candles(self, market: dict[str, Any], request: Request, timeframe: str) -> Iterator[Page]:
        now_ms = int(self._clock() * 1000)
        cursor = domain.candle_cursor(self.venue, timeframe, request.since, request.until, now_ms)
        instrument = self._live_name(market)
        asked = domain.grid_ceil(request.since // domain.MS_US, cursor.step)
        if cursor.since > asked and asked < cursor.stop:
            logger.warning(
                "%s %s %s: the venue serves only its latest %s candles; %d ms before %d are lost",
                self.name,
                instrument,
                timeframe,
                self.venue.ohlcv_depth,
                cursor.since - asked,
                cursor.since,
            )
        while not cursor.done:
            window_end = domain.candle_window_end(self.venue, cursor)
            params = {} if window_end is None else {"until": window_end - 1}
            candles = self._call(
                self.exchange.fetch_ohlcv,
                market["symbol"],
                timeframe,
                cursor.since,
                self.venue.ohlcv_limit,
                params,
            )
            starts = [_int(candle, 0) for candle in candles]
            step = domain.candle_step(self.venue, cursor, starts)
            rows = [
                self._row(request.dataset, instrument, candles[i], starts[i], cursor.since)
                for i in step.keep
            ]
            yield Page(rows, step.covered_until * domain.MS_US)
            cursor = step.cursor

    def _trades(self, market: dict[str, Any], request: Request) -> Iterator[Page]:
        cursor = domain.trade_cursor(self.venue, request.since, request.until)
        instrument = self._live_name(market)
        while not cursor.done:
            params: dict[str, Any] = {"until": cursor.until - 1}
            if self.name == "deribit":
                params["sorting"] = "asc"  # else in the order they left Deribit's database
            if self.name == "kraken":
                params = {}  # Kraken's Trades takes no end: it answers from `since` on
            trades = self._call(
                self.exchange.fetch_trades,
                market["symbol"],
                cursor.since,
                self.venue.trades_limit,
                params,
            )
            keys = [(_int(t, "timestamp"), _identity(t)) for t in trades]
            step = domain.trade_step(self.venue, cursor, keys)
            if step.stuck:
                logger.warning(
                    "%s %s: a full page of trades within %d ms of %d; the rest of it is skipped",
                    self.name,
                    instrument,
                    self.venue.trades_since_ms,
                    cursor.since,
                )
            if not step.narrowed:
                rows = [
                    self._row(request.dataset, instrument, trades[i], keys[i][0], cursor.since)
                    for i in step.keep
                ]
                yield Page(rows, step.covered_until * domain.MS_US)
            cursor = step.cursor

    def _row(self, dataset: str, instrument: str, value: Any, ms: int | None, at: int) -> VendorRow:
        return VendorRow(
            provider=self.name,
            feed=dataset,
            instrument=instrument,
            # As ccxt hands it over; what JSON cannot hold becomes text, for normalize to judge.
            payload=json.dumps(value, separators=(",", ":"), default=str).encode(),
            ts=(at if ms is None else ms) * domain.MS_US,
        )

    def _call(self, method: Callable[..., T], *args: Any) -> T:
        attempts = retrying(self.policy, _TRANSIENT, self.name, self._asked, self._count_retry)
        try:
            return attempts(method, *args)
        except ccxt.BadSymbol as exc:
            raise UnknownInstrument(f"{self.name}: {exc}") from None
        except _TRANSIENT as exc:
            raise SourceUnavailable(
                f"{self.name}: failed {self.policy.attempts} times, last: {type(exc).__name__}: "
                f"{exc}"
            ) from None
        except ccxt.BaseError as exc:
            raise SourceUnavailable(f"{self.name}: {type(exc).__name__}: {exc}") from None

    def _asked(self, error: BaseException) -> float | None:
        """A 429's Retry-After, from the venue's last answer (ccxt keeps its headers)."""
        if not isinstance(error, _RATE_LIMITED):
            return None
        return retry_after_s((self.exchange.last_response_headers or {}).get("Retry-After"))

    def _count_retry(self) -> None:
        self.retries += 1


def _int(value: Any, key: Any) -> int | None:
    """The integer at `key` of a candle list or trade dict; None when missing or not one."""
    try:
        item = value[key]
    except (IndexError, KeyError, TypeError):
        return None
    return item if isinstance(item, int) and not isinstance(item, bool) else None


def _identity(trade: Any) -> str:
    """The venue's trade id; a trade without one is told apart by its content."""
    trade_id = trade.get("id") if isinstance(trade, dict) else None
    if trade_id is not None:
        return str(trade_id)
    return json.dumps(trade, sort_keys=True, default=str)
