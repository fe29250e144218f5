"""CoinGecko's public API as a history source: daily bars (ohlcv:1d) of a coin in a vs currency
from /coins/{id}/ohlc/range, each joined with the day's volume from /market_chart/range."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from tickwire_core.clock import now_us
from tickwire_ingest.adapters.history.http import RetryPolicy, VendorHttp, retrying
from tickwire_ingest.domain.history import coingecko
from tickwire_ingest.domain.history.coingecko import Coin
from tickwire_ingest.domain.history.pages import (
    Page,
    Request,
    SourceUnavailable,
    UnknownInstrument,
)

logger = logging.getLogger(__name__)

DEMO_URL = "https://api.coingecko.com/api/v3"
PRO_URL = "https://pro-api.coingecko.com/api/v3"
_KEY_HEADER = {"demo": "x-cg-demo-api-key", "pro": "x-cg-pro-api-key"}
# The demo plan's documented rate is 30 calls a minute (100 on newer pages); keyless calls
# share a per-IP budget that is far lower.
DEMO_PAUSE_S = 2.1
KEYLESS_PAUSE_S = 12.0
# What CoinGecko's error codes mean for a backfill, said in one line.
_HINTS = {
    10002: "set an API key",
    10005: "daily candles (/ohlc/range) need a paid plan",
    10010: "a pro key needs plan 'pro' (pro-api.coingecko.com)",
    10011: "a demo key needs plan 'demo' (api.coingecko.com)",
    10012: "the demo plan serves the past 365 days only",
}


class CoinGeckoSource:
    """Daily bars of coins; one request for the coin, one for the vs currencies, then two per
    window of up to 180 days (candles, volumes)."""

    name = coingecko.PROVIDER
    grouped = False

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        pause_s: float | None = None,
        policy: RetryPolicy | None = None,
        plan: str = "demo",
        clock: Callable[[], int] = now_us,
    ) -> None:
        if plan not in _KEY_HEADER:
            raise ValueError(f"coingecko plan {plan!r}: demo or pro")
        if pause_s is None:
            pause_s = DEMO_PAUSE_S if api_key or plan == "pro" else KEYLESS_PAUSE_S
        self.policy = dataclasses.replace(policy or RetryPolicy(), pause_s=pause_s)
        headers = {"Accept": "application/json"}
        if api_key:
            headers[_KEY_HEADER[plan]] = api_key
        url = base_url or (PRO_URL if plan == "pro" else DEMO_URL)
        self.http = VendorHttp(self.name, url, self.policy, headers=headers)
        self._clock = clock

    def datasets(self) -> list[str]:
        return [coingecko.DAILY]

    def close(self) -> None:
        self.http.close()

    def fetch(self, request: Request) -> Iterator[Page]:
        if request.dataset != coingecko.DAILY:
            raise ValueError(f"coingecko serves {coingecko.DAILY}, not {request.dataset}")
        coin = coingecko.parse_instrument(request.instrument)
        plan = coingecko.windows(request.since, request.until, self._clock())
        if not plan:
            return
        symbol = self._symbol(coin)
        self._check_currency(coin)
        endpoints = {
            "coin": f"/coins/{coin.coin_id}",
            "ohlc": f"/coins/{coin.coin_id}/ohlc/range",
            "volume": f"/coins/{coin.coin_id}/market_chart/range",
        }
        for window in plan:
            params = {
                "vs_currency": coin.vs_currency,
                "from": window.from_s,
                "to": window.to_s,
                "interval": "daily",
            }
            candles = self._list(endpoints["ohlc"], params)
            chart = self._json(endpoints["volume"], params)
            volumes = chart.get("total_volumes") if isinstance(chart, dict) else None
            if not isinstance(volumes, list):
                raise SourceUnavailable(
                    f"coingecko: {endpoints['volume']} answered without total_volumes"
                )
            rows = coingecko.candle_rows(coin, symbol, window, candles, volumes, endpoints)
            yield Page(rows=rows, covered_until=window.end)

    def _symbol(self, coin: Coin) -> Any:
        # The coin's own endpoint, trimmed to its identity: one small request, and a 404 here
        # is CoinGecko saying it knows no such coin id.
        path = f"/coins/{coin.coin_id}"
        params = {
            "localization": "false",
            "tickers": "false",
            "market_data": "false",
            "community_data": "false",
            "developer_data": "false",
            "sparkline": "false",
        }
        body = self._json(path, params, unknown=f"coin id {coin.coin_id!r}")
        if not isinstance(body, dict) or "symbol" not in body:
            raise SourceUnavailable(f"coingecko: {path} answered without the coin's symbol")
        return body["symbol"]  # checked by normalize, which builds the unified name from it

    def _check_currency(self, coin: Coin) -> None:
        known = self._list("/simple/supported_vs_currencies", {})
        if coin.vs_currency not in known:
            raise UnknownInstrument(
                f"coingecko: vs currency {coin.vs_currency!r} of {coin.name} is not one CoinGecko "
                "quotes (see /simple/supported_vs_currencies)"
            )

    def _list(self, path: str, params: dict[str, Any]) -> list[Any]:
        body = self._json(path, params)
        if not isinstance(body, list):
            raise SourceUnavailable(f"coingecko: {path} answered {_short(body)}, not a list")
        return body

    def _json(self, path: str, params: dict[str, Any], unknown: str | None = None) -> Any:
        """The JSON body of a 200; a body cut short is fetched again (with the policy's
        backoff), as the HTTP layer only retries what the status says is transient."""
        attempts = retrying(self.policy, _Truncated, self.name)
        try:
            return attempts(self._json_once, path, params, unknown)
        except _Truncated as exc:
            raise SourceUnavailable(
                f"coingecko: {path} kept answering unreadable JSON ({exc})"
            ) from None

    def _json_once(self, path: str, params: dict[str, Any], unknown: str | None) -> Any:
        response = self.http.get(path, params)
        if response.status_code == 404 and unknown is not None:
            raise UnknownInstrument(f"coingecko: no {unknown} ({_error_text(response)})")
        if response.status_code != 200:
            raise SourceUnavailable(_failure(path, response))
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            logger.warning("coingecko: %s answered unreadable JSON (%s), fetching again", path, exc)
            raise _Truncated(str(exc)) from None


class _Truncated(Exception):
    pass


def _failure(path: str, response: httpx.Response) -> str:
    code, text = _error(response)
    hint = _HINTS.get(code) if code is not None else None
    return (
        f"coingecko: {path} answered HTTP {response.status_code}"
        + (f" (error {code})" if code is not None else "")
        + f": {text}"
        + (f"; {hint}" if hint else "")
    )


def _error(response: httpx.Response) -> tuple[int | None, str]:
    """CoinGecko's error code and message. Its error bodies come in three shapes:
    {"error": "text"}, {"status": {"error_code", "error_message"}} and that status nested
    under "error"."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, _short(response.text)
    status = body.get("status") if isinstance(body, dict) else None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        status = body["error"].get("status")
    if isinstance(status, dict):
        code = status.get("error_code")
        return (code if isinstance(code, int) else None), _short(status.get("error_message"))
    if isinstance(body, dict) and "error" in body:
        return None, _short(body["error"])
    return None, _short(body)


def _error_text(response: httpx.Response) -> str:
    return _error(response)[1]


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 200 else text[:200] + "..."
