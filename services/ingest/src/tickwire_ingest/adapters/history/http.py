"""HTTP for history sources: one client per vendor with a pause between requests (free tiers
count them), and retries with capped exponential backoff and jitter (tenacity) on what passes:
429 (waiting at least its Retry-After), 5xx, timeouts and broken connections. Other answers go
back to the caller, who knows what a 404 or a 403 means for its vendor."""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import tenacity

from tickwire_ingest.domain.history.pages import SourceUnavailable

logger = logging.getLogger(__name__)

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    initial_s: float = 0.5
    max_s: float = 30.0  # the cap of one wait, Retry-After included
    jitter_s: float = 0.5
    pause_s: float = 0.0  # at least this long between two requests (a free tier's rate)
    timeout_s: float = 30.0


class _Transient(Exception):
    def __init__(self, what: str, retry_after_s: float | None = None) -> None:
        super().__init__(what)
        self.retry_after_s = retry_after_s


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date; None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _Wait(tenacity.wait.wait_base):
    """Exponential with jitter, but never less than what the server asked for, and capped."""

    def __init__(self, policy: RetryPolicy, asked: Callable[[BaseException], float | None]) -> None:
        self._backoff = tenacity.wait_exponential_jitter(
            multiplier=policy.initial_s, max=policy.max_s, jitter=policy.jitter_s
        )
        self._cap = policy.max_s
        self._asked = asked

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        wait = self._backoff(retry_state)
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        asked = self._asked(error) if error is not None else None
        if asked is not None:
            wait = max(wait, asked)
        return min(wait, self._cap)


def retrying(
    policy: RetryPolicy,
    transient: type[BaseException] | tuple[type[BaseException], ...],
    vendor: str,
    asked: Callable[[BaseException], float | None] = lambda _error: None,
    on_retry: Callable[[], None] | None = None,
) -> tenacity.Retrying:
    """Every source's retries: the policy's attempts at what `transient` names, capped
    exponential backoff with jitter, never shorter than what `asked` reads off the failure (a
    429's Retry-After), each retry logged and told to `on_retry`; the last failure re-raised."""

    def log(state: tenacity.RetryCallState) -> None:
        if on_retry is not None:
            on_retry()
        error = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning(
            "%s: attempt %d failed (%s: %s), retrying in %.1fs",
            vendor,
            state.attempt_number,
            type(error).__name__,
            error,
            wait,
        )

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.attempts),
        wait=_Wait(policy, asked),
        retry=tenacity.retry_if_exception_type(transient),
        before_sleep=log,
        reraise=True,
    )


class VendorHttp:
    """GETs and POSTs against one vendor's base URL."""

    def __init__(
        self,
        vendor: str,
        base_url: str,
        policy: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.vendor = vendor
        self.policy = policy or RetryPolicy()
        self.retries = 0  # transient failures seen, for the run's report
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=self.policy.timeout_s,
            headers={"User-Agent": "tickwire-backfill", **(headers or {})},
            transport=transport,
            follow_redirects=True,
        )
        self._lock = threading.Lock()
        self._last_at = 0.0

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any) -> httpx.Response:
        return self.request("POST", path, json=json)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        attempts = retrying(
            self.policy,
            _Transient,
            self.vendor,
            lambda error: getattr(error, "retry_after_s", None),
            self._count_retry,
        )
        try:
            return attempts(self._once, method, path, **kwargs)
        except _Transient as exc:
            raise SourceUnavailable(
                f"{self.vendor}: {method} {self._url(path)} failed "
                f"{self.policy.attempts} times, last: {exc}"
            ) from None

    def _once(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self._pace()
        try:
            response = self._client.request(method, path, **kwargs)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from None
        if response.status_code in _RETRY_STATUS:
            raise _Transient(
                f"HTTP {response.status_code}",
                retry_after_s(response.headers.get("Retry-After")),
            )
        return response

    def _url(self, path: str) -> str:
        # httpx keeps the base URL with a trailing slash; paths are written with a leading one.
        return str(self._client.base_url).rstrip("/") + "/" + path.lstrip("/")

    def _pace(self) -> None:
        with self._lock:
            wait = self._last_at + self.policy.pause_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_at = time.monotonic()

    def _count_retry(self) -> None:
        self.retries += 1
