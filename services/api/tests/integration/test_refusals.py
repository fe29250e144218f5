"""What the API refuses so one request cannot exhaust the database (each 422 names the cap and its
setting), and that no refusal, nor a database outage, shows a key, a key's digest or the DSN."""

import hashlib
import logging
import socket
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict

from tickwire_api.app import create_app
from tickwire_api.settings import ApiSettings
from tickwire_sink.adapters.migrations import migrate

pytestmark = pytest.mark.integration

KEY = "tw_live_7c41e0aa93"
WRONG_KEY = "tw_live_0d9e1b2c77"
T0 = "2023-11-14T00:00:00Z"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def secrets_of(database_url: str) -> list[str]:
    """What must never be shown: the keys, their digests, the DSN and its password."""
    found = [KEY, WRONG_KEY, digest(KEY), digest(WRONG_KEY), database_url]
    password = conninfo_to_dict(database_url).get("password")
    return found + ([str(password)] if password else [])


def shown(response: httpx.Response) -> str:
    return response.text + "\n".join(f"{k}: {v}" for k, v in response.headers.items())


def assert_nothing_secret(texts: list[str], secrets: list[str]) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret shows in: {text[:200]}"


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # every logger, every level: a leak at DEBUG is a leak
    return caplog


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    settings = ApiSettings(
        DATABASE_URL=database_url,
        api_key_hashes=digest(KEY),
        max_limit=50,
        max_range_days=2,
        max_export_days=3,
        max_buckets=100,
        max_bar_range_days=5,
        rate_limit_per_s=0.01,
        rate_limit_burst=40,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


CAPS = [
    ("/v1/ticks/latest", {"instrument": "X", "limit": 51}, "limit", "50", "TICKWIRE_MAX_LIMIT"),
    (
        "/v1/ticks",
        {"instrument": "X", "start": T0, "end": "2023-11-16T00:00:01Z"},
        "end",
        "2 days",
        "TICKWIRE_MAX_RANGE_DAYS",
    ),
    (
        "/v1/export/ticks",
        {"instrument": "X", "start": T0, "end": "2023-11-17T00:00:01Z"},
        "end",
        "3 days",
        "TICKWIRE_MAX_EXPORT_DAYS",
    ),
    (
        "/v1/bars",
        {"instrument": "X", "interval": "1m", "start": T0, "end": "2023-11-14T01:41:00Z"},
        "end",
        "at most 100",
        "TICKWIRE_MAX_BUCKETS",
    ),
    (
        "/v1/indicators",
        {"instrument": "X", "interval": "1s", "start": T0, "end": "2023-11-14T00:01:41Z"},
        "end",
        "at most 100",
        "TICKWIRE_MAX_BUCKETS",
    ),
    (
        "/v1/bars",
        {"instrument": "X", "interval": "1d", "start": T0, "end": "2023-11-19T00:00:01Z"},
        "end",
        "5 days",
        "TICKWIRE_MAX_BAR_RANGE_DAYS",
    ),
    (
        "/v1/indicators",
        {"instrument": "X", "interval": "1d", "start": T0, "end": "2023-11-19T00:00:01Z"},
        "end",
        "5 days",
        "TICKWIRE_MAX_BAR_RANGE_DAYS",
    ),
]


def test_each_cap_is_a_422_naming_the_limit_and_its_setting(
    client: TestClient, database_url: str, logged: pytest.LogCaptureFixture
) -> None:
    texts = []
    for path, params, parameter, limit, setting in CAPS:
        response = client.get(path, params=params, headers={"X-API-Key": KEY})
        assert response.status_code == 422, (path, response.text)
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", parameter], path
        assert limit in error["msg"] and setting in error["msg"], error["msg"]
        texts.append(shown(response))
    # Just inside each cap is served: the refusals are the caps', not the parameters' shape.
    inside = client.get(
        "/v1/ticks",
        params={"instrument": "X", "start": T0, "end": "2023-11-16T00:00:00Z", "limit": 50},
        headers={"X-API-Key": KEY},
    )
    assert inside.status_code == 200, inside.text
    five_days = {"instrument": "X", "interval": "1d", "start": T0, "end": "2023-11-19T00:00:00Z"}
    bars = client.get("/v1/bars", params=five_days, headers={"X-API-Key": KEY})
    assert bars.status_code == 200, bars.text
    # Vendor bars are stored at their own interval: their range is not capped.
    vendor = {**five_days, "end": "2024-01-03T00:00:00Z", "source": "yahoo"}  # 50 days
    yahoo = client.get("/v1/bars", params=vendor, headers={"X-API-Key": KEY})
    assert yahoo.status_code == 200, yahoo.text
    assert_nothing_secret([*texts, logged.text], secrets_of(database_url))


def test_no_refusal_shows_a_key_its_digest_or_the_dsn(
    client: TestClient, database_url: str, logged: pytest.LogCaptureFixture
) -> None:
    refusals = [
        client.get("/v1/instruments"),
        client.get("/v1/instruments", headers={"X-API-Key": WRONG_KEY}),
        client.get(
            "/v1/ticks", params={"instrument": "X", "cursor": "!!"}, headers={"X-API-Key": KEY}
        ),
        client.get(
            "/v1/ticks",
            params={"instrument": "<script>", "start": T0, "end": T0},
            headers={"X-API-Key": KEY},
        ),
    ]
    assert [r.status_code for r in refusals] == [401, 401, 422, 422]
    # Guesses share the client address's bucket: spend it, then the refusal is a 429.
    for _ in range(40):
        client.get("/v1/instruments", headers={"X-API-Key": WRONG_KEY})
    throttled = client.get("/v1/instruments", headers={"X-API-Key": WRONG_KEY})
    assert throttled.status_code == 429, throttled.text
    texts = [shown(r) for r in [*refusals, throttled]]
    assert_nothing_secret([*texts, logged.text], secrets_of(database_url))


def test_every_v1_route_refuses_no_key_and_a_wrong_one(
    database_url: str, logged: pytest.LogCaptureFixture
) -> None:
    settings = ApiSettings(
        DATABASE_URL=database_url, api_key_hashes=digest(KEY), rate_limit_per_s=0
    )
    app = create_app(settings)
    # From the OpenAPI document: every route a client can find is checked, new ones included.
    paths = sorted(p for p in app.openapi()["paths"] if p.startswith("/v1/"))
    assert len(paths) >= 15, paths
    texts = []
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in paths:
            for headers in ({}, {"X-API-Key": WRONG_KEY}):
                response = client.get(path, headers=headers)
                assert response.status_code == 401, (path, headers, response.text)
                texts.append(shown(response))
    assert_nothing_secret([*texts, logged.text], secrets_of(database_url))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_database_outage_shows_neither_the_dsn_nor_its_password(
    logged: pytest.LogCaptureFixture,
) -> None:
    database_url = f"postgresql://tickwire_api:pw-9f3e61b2d4@127.0.0.1:{closed_port()}/tickwire"
    settings = ApiSettings(DATABASE_URL=database_url, api_key_hashes=digest(KEY), db_wait_s=1.0)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503, ready.text
        # A request is told to come back (not a 500 after a long wait) once db_wait_s is over.
        page = client.get("/v1/instruments", headers={"X-API-Key": KEY})
        assert page.status_code == 503, page.text
        assert page.headers["retry-after"] == "5"
        assert page.json() == {"detail": "the database is not reachable now; try again later"}
    assert logged.records, "the pool's failed connections are logged"
    texts = [shown(ready), shown(page), logged.text]
    assert_nothing_secret(texts, [*secrets_of(database_url), "pw-9f3e61b2d4"])
