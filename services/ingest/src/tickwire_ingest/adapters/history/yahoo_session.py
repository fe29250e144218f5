"""The HTTP session yfinance runs on for a backfill: it sends Yahoo's hosts to a configured base
URL (a local test server) and turns Yahoo's chart failures into errors a retry can act on."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from curl_cffi.requests import Response, Session
from curl_cffi.requests.exceptions import ConnectionError as CurlConnectionError
from curl_cffi.requests.exceptions import Timeout as CurlTimeout

from tickwire_ingest.adapters.history.http import retry_after_s

CHART_PATH = "/v8/finance/chart/"
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class TransientChartError(Exception):
    """A chart request that may succeed if asked again: 429 (with its Retry-After), 5xx, a
    timeout, a broken connection, or a body cut short."""

    def __init__(self, what: str, retry_after_s: float | None = None) -> None:
        super().__init__(what)
        self.retry_after_s = retry_after_s


class ChartNotFound(Exception):
    """Yahoo answered a chart request with 404 and its error code "Not Found": it does not know
    the ticker (the message is Yahoo's description)."""


class YahooSession(Session[Response]):
    """A curl_cffi session (the kind yfinance accepts as `session=`, impersonating a browser as
    yfinance's own does) with two duties yfinance does not offer:

    * `base_url`: every *.yahoo.com URL yfinance builds (chart, cookie, crumb, consent) goes to
      that server instead, same path and query. yfinance has no setting for its hosts; a proxy
      would only see CONNECT tunnels to https hosts, and patching its module constants would
      change every user of yfinance in the process. A session is yfinance's documented seam.
    * status: yfinance hides the HTTP status of a chart answer (a 5xx body is parsed as if it
      were data; a 429 loses its Retry-After; a 404 sends it retrying with another cookie
      strategy and then asking the quote endpoint for a timezone). Here a chart answer of
      429/5xx, a timeout or a body that is not JSON raises TransientChartError, and Yahoo's
      "Not Found" raises ChartNotFound; yfinance lets both through (with
      `config.debug.hide_exceptions = False`) to the caller. Cookie and crumb requests are left
      to yfinance, which degrades without them."""

    def __init__(self, base_url: str | None = None) -> None:
        super().__init__(impersonate="chrome")
        self._base = urlsplit(base_url.rstrip("/")) if base_url else None

    def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Response:
        target = self._rewrite(url)
        chart = CHART_PATH in urlsplit(target).path
        try:
            response = super().request(method, target, *args, **kwargs)
        except (CurlTimeout, CurlConnectionError) as exc:
            if chart:
                raise TransientChartError(f"{type(exc).__name__}: {exc}") from None
            raise
        if chart:
            _check_chart(response)
        return response

    def _rewrite(self, url: str) -> str:
        if self._base is None:
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != "yahoo.com" and not host.endswith(".yahoo.com"):
            return url
        path = self._base.path + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, ""))


def _check_chart(response: Response) -> None:
    status = response.status_code
    if status in _RETRY_STATUS:
        raise TransientChartError(
            f"HTTP {status}", retry_after_s(response.headers.get("Retry-After"))
        )
    try:
        body = json.loads(response.content)
    except ValueError:
        if status == 200:
            raise TransientChartError(
                f"HTTP 200 with a body that is not JSON ({len(response.content)} bytes)"
            ) from None
        return
    error = (body.get("chart") or {}).get("error") if isinstance(body, dict) else None
    if status == 404 and isinstance(error, dict) and error.get("code") == "Not Found":
        raise ChartNotFound(str(error.get("description") or "Not Found"))
