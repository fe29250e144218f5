"""VendorHttp against a real local HTTP server: what it retries (429 after at least its
Retry-After, 5xx), what it hands back (4xx), the pause between requests, and SourceUnavailable
once the attempts are spent."""

import time

import pytest
from pytest_httpserver import HTTPServer

from tickwire_ingest.adapters.history.http import RetryPolicy, VendorHttp, retry_after_s
from tickwire_ingest.domain.history.pages import SourceUnavailable

pytestmark = pytest.mark.integration

FAST = RetryPolicy(attempts=3, initial_s=0.01, max_s=2.0, jitter_s=0.0, timeout_s=5.0)


def vendor(server: HTTPServer, policy: RetryPolicy = FAST) -> VendorHttp:
    return VendorHttp("test", server.url_for("/api"), policy, headers={"x-key": "k"})


def test_a_429_is_retried_after_at_least_its_retry_after(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/api/data").respond_with_data(
        "{}", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_request("/api/data", headers={"x-key": "k"}).respond_with_json([1])
    http = vendor(httpserver)
    started = time.monotonic()
    response = http.get("/data", {"q": "1"})
    elapsed = time.monotonic() - started
    assert response.json() == [1]
    assert elapsed >= 1.0  # the backoff alone (0.01 s) would have come back far sooner
    assert http.retries == 1
    assert len(httpserver.log) == 2
    assert httpserver.log[1][0].args["q"] == "1"


def test_a_retry_after_longer_than_the_cap_is_cut_to_the_cap(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/api/data").respond_with_data(
        "", status=429, headers={"Retry-After": "3600"}
    )
    httpserver.expect_request("/api/data").respond_with_json([])
    started = time.monotonic()
    vendor(httpserver, RetryPolicy(attempts=2, initial_s=0.01, max_s=0.3, jitter_s=0.0)).get(
        "/data"
    )
    assert 0.3 <= time.monotonic() - started < 5


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_then_success_is_retried(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_oneshot_request("/api/data").respond_with_data("down", status=status)
    httpserver.expect_request("/api/data").respond_with_json({"ok": True})
    http = vendor(httpserver)
    assert http.get("/data").json() == {"ok": True}
    assert http.retries == 1


def test_attempts_spent_raise_source_unavailable(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/data").respond_with_data("down", status=503)
    http = vendor(httpserver)
    with pytest.raises(SourceUnavailable, match=r"test: GET .*/api/data failed 3 times.*503"):
        http.get("/data")
    assert len(httpserver.log) == 3
    assert http.retries == 2


def test_a_client_error_is_handed_back_at_once(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/data").respond_with_json({"error": "x"}, status=404)
    http = vendor(httpserver)
    assert http.get("/data").status_code == 404
    assert len(httpserver.log) == 1
    assert http.retries == 0


def test_a_connection_refused_is_retried_then_unavailable() -> None:
    http = VendorHttp("test", "http://127.0.0.1:9", FAST)  # the discard port: nobody listens
    with pytest.raises(SourceUnavailable, match="failed 3 times"):
        http.get("/data")
    assert http.retries == 2


def test_requests_are_paced_by_the_pause(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/data").respond_with_json([])
    http = vendor(httpserver, RetryPolicy(pause_s=0.4))
    started = time.monotonic()
    for _ in range(3):
        http.get("/data")
    assert time.monotonic() - started >= 0.8  # two pauses between three requests


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_s("7") == 7.0
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert retry_after_s(None) is None
    assert retry_after_s("soon") is None
