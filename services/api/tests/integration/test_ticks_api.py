"""The API against a real TimescaleDB: latest ticks, validation, readiness."""

import psycopg
import pytest
from fastapi.testclient import TestClient

from tickwire_api.app import create_app
from tickwire_api.settings import ApiSettings
from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.migrations import migrate
from tickwire_sink.adapters.ticks import TickWriter

pytestmark = pytest.mark.integration

T0 = 1_700_000_000_000_000


@pytest.fixture
def client(database_url: str):
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        TickWriter(conn, AvroSerde().schema("tick")).write(
            [
                {
                    "provider": "simulator",
                    "instrument": "SIM-BTC-USD",
                    "kind": "quote",
                    "exchange_ts": T0 + i * 1000,
                    "received_ts": T0 + i * 1000 + 7,
                    "bid_price": 100.0 + i,
                    "ask_price": 100.5 + i,
                    "venue_seq": i,
                }
                for i in range(50)
            ]
            + [  # a trade after the last quote: the latest tick, not the latest quote
                {
                    "provider": "simulator",
                    "instrument": "SIM-BTC-USD",
                    "kind": "trade",
                    "exchange_ts": T0 + 60_000,
                    "received_ts": T0 + 60_007,
                    "last_traded_price": 150.0,
                    "last_traded_volume": 0.5,
                    "trade_id": "t-1",
                }
            ]
        )
    app = create_app(ApiSettings(DATABASE_URL=database_url, max_limit=20, allow_anonymous=True))
    with TestClient(app) as test_client:
        yield test_client


def test_latest_ticks_newest_first(client: TestClient) -> None:
    response = client.get("/v1/ticks/latest", params={"instrument": "SIM-BTC-USD", "limit": 3})
    assert response.status_code == 200
    assert [t["kind"] for t in response.json()["ticks"]] == ["trade", "quote", "quote"]
    response = client.get(
        "/v1/ticks/latest", params={"instrument": "SIM-BTC-USD", "limit": 3, "kind": "quote"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [t["venue_seq"] for t in body["ticks"]] == [49, 48, 47]
    newest = body["ticks"][0]
    assert newest["bid_price"] == 149.0 and newest["ask_price"] == 149.5
    assert newest["exchange_ts"].startswith("2023-11-14T22:13:20.049")
    assert newest["last_traded_price"] is None


def test_unknown_instrument_is_an_empty_page_and_provider_filters(client: TestClient) -> None:
    response = client.get("/v1/ticks/latest", params={"instrument": "NOPE"})
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 0
    other = client.get(
        "/v1/ticks/latest", params={"instrument": "SIM-BTC-USD", "provider": "binance"}
    )
    assert other.json()["count"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"instrument": "SIM-BTC-USD; DROP TABLE ticks"},
        {"instrument": ""},
        {"instrument": "SIM-BTC-USD", "limit": 0},
        {"instrument": "SIM-BTC-USD", "limit": 21},
        {"instrument": "SIM-BTC-USD", "provider": "UPPER"},
        {"instrument": "SIM-BTC-USD", "kind": "book"},
        {},
    ],
)
def test_bad_parameters_are_a_clear_422(client: TestClient, params: dict) -> None:
    response = client.get("/v1/ticks/latest", params=params)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_health_and_metrics(client: TestClient) -> None:
    assert client.get("/livez").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ticks_table"] is True
    assert "python_info" in client.get("/metrics").text


def test_not_ready_without_the_ticks_table(database_url: str) -> None:
    with TestClient(
        create_app(ApiSettings(DATABASE_URL=database_url, allow_anonymous=True))
    ) as test_client:
        response = test_client.get("/readyz")
    assert response.status_code == 503 and response.json()["ticks_table"] is False
