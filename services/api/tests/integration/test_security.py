"""API keys (kept only as SHA-256 digests), explicit open access, CORS, request size limits and
the rate limit per key."""

import hashlib
import time

import psycopg
import pytest
from fastapi.testclient import TestClient

from tickwire_api.app import create_app
from tickwire_api.settings import ApiSettings
from tickwire_core.errors import ConfigError
from tickwire_core.settings import load_settings
from tickwire_sink.adapters.migrations import migrate

pytestmark = pytest.mark.integration

KEY = "tw_live_5f2b8c1e9d"


def keyed(database_url: str, **extra: object) -> ApiSettings:
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    return ApiSettings(DATABASE_URL=database_url, api_key_hashes=digest, **extra)


def test_v1_needs_a_valid_key_and_health_does_not(database_url) -> None:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    with TestClient(create_app(keyed(database_url))) as client:
        assert client.get("/v1/instruments").status_code == 401
        assert client.get("/v1/instruments", headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.get("/v1/status", headers={"X-API-Key": KEY}).status_code == 200
        assert client.get("/v1/instruments", headers={"X-API-Key": KEY}).status_code == 200
        assert client.get("/livez").status_code == 200
        unauthorized = client.get("/v1/ticks/latest?instrument=X")
        assert unauthorized.status_code == 401 and "API key" in unauthorized.json()["detail"]


def test_without_keys_start_up_refuses_unless_open_access_is_chosen(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/x")
    with pytest.raises(ConfigError, match="TICKWIRE_API_KEY_HASHES"):
        load_settings(ApiSettings)
    monkeypatch.setenv("TICKWIRE_API_KEY_HASHES", KEY)  # a key where its digest belongs
    with pytest.raises(ConfigError, match="SHA-256"):
        load_settings(ApiSettings)
    monkeypatch.delenv("TICKWIRE_API_KEY_HASHES")
    monkeypatch.setenv("TICKWIRE_ALLOW_ANONYMOUS", "true")
    assert load_settings(ApiSettings).allow_anonymous


def test_cors_and_size_limits(database_url) -> None:
    settings = keyed(database_url, cors_origins="https://research.example", max_query_bytes=256)
    with TestClient(create_app(settings)) as client:
        allowed = client.get("/livez", headers={"Origin": "https://research.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://research.example"
        other = client.get("/livez", headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers
        long_query = client.get("/v1/instruments?x=" + "a" * 300, headers={"X-API-Key": KEY})
        assert long_query.status_code == 414
        big = client.post("/v1/instruments", content=b"x" * 70_000, headers={"X-API-Key": KEY})
        assert big.status_code == 413


def test_past_the_burst_a_key_gets_429_with_retry_after_and_is_served_after_the_wait(
    database_url,
) -> None:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    settings = keyed(database_url, rate_limit_per_s=1.0, rate_limit_burst=3)
    with TestClient(create_app(settings)) as client:
        served = [
            client.get("/v1/instruments", headers={"X-API-Key": KEY}).status_code for _ in range(3)
        ]
        assert served == [200, 200, 200]
        refused = client.get("/v1/instruments", headers={"X-API-Key": KEY})
        assert refused.status_code == 429, refused.text
        # Under a token at 1/s: the wait rounds up to one whole second, whatever time passed.
        assert refused.headers["retry-after"] == "1"
        assert "at most 1 a second" in refused.json()["detail"]
        # The key's bucket is its own: a caller without one is still told about the key.
        assert client.get("/v1/instruments").status_code == 401
        time.sleep(int(refused.headers["retry-after"]))
        assert client.get("/v1/instruments", headers={"X-API-Key": KEY}).status_code == 200


def test_guessing_keys_is_rate_limited_by_client_address(database_url) -> None:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    settings = keyed(database_url, rate_limit_per_s=0.01, rate_limit_burst=2)
    with TestClient(create_app(settings)) as client:
        guesses = [
            client.get("/v1/instruments", headers={"X-API-Key": f"guess-{n}"}) for n in range(3)
        ]
        assert [g.status_code for g in guesses] == [401, 401, 429]
        assert int(guesses[2].headers["retry-after"]) >= 1
        # A valid key is not held back by the guesses from the same address.
        assert client.get("/v1/instruments", headers={"X-API-Key": KEY}).status_code == 200


def test_rate_zero_turns_the_limit_off(database_url) -> None:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    settings = keyed(database_url, rate_limit_per_s=0.0, rate_limit_burst=1)
    with TestClient(create_app(settings)) as client:
        codes = {
            client.get("/v1/instruments", headers={"X-API-Key": KEY}).status_code for _ in range(5)
        }
        assert codes == {200}
