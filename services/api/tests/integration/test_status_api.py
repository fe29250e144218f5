"""/v1/status against a real database: the feed_status and service_status rows as stored, each
feed's age and staleness, the provider and instrument filters, and 422s for bad parameters."""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tickwire_api.app import create_app
from tickwire_api.settings import ApiSettings
from tickwire_sink.adapters.migrations import migrate

pytestmark = pytest.mark.integration

# (provider, instrument, seconds since the newest tick or None, ticks, gaps)
FEEDS = [
    ("binance", "BTC-USDT", 5, 40, 0),
    ("simulator", "SIM-BTC-USD", 600, 120, 2),
    ("simulator", "SIM-ETH-USD", None, 0, 1),
]


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        for provider, instrument, age, ticks, gaps in FEEDS:
            conn.execute(
                "INSERT INTO feed_status (provider, instrument, last_exchange_ts,"
                " last_received_ts, ticks, gaps, last_gap_start, last_gap_end, last_gap_reason)"
                " VALUES (%s, %s, now() - make_interval(secs => %s),"
                " now() - make_interval(secs => %s) + interval '3 ms', %s, %s,"
                " CASE WHEN %s > 0 THEN timestamptz '2023-11-14T22:00:00Z' END,"
                " CASE WHEN %s > 0 THEN timestamptz '2023-11-14T22:00:05Z' END,"
                " CASE WHEN %s > 0 THEN 'sequence' END)",
                (provider, instrument, age, age, ticks, gaps, gaps, gaps, gaps),
            )
        conn.execute(
            "INSERT INTO service_status (service, instance, heartbeat_at, rows_in, rows_out,"
            " rows_refused, batches_failed, circuit, last_error, last_error_at)"
            " VALUES ('sink', 'sink-1', now() - interval '2 seconds', 160, 158, 1, 3, 'closed',"
            " 'OperationalError: connection lost', timestamptz '2023-11-14T22:13:20Z')"
        )
    with TestClient(
        create_app(ApiSettings(DATABASE_URL=database_url, allow_anonymous=True))
    ) as test_client:
        yield test_client


def feed_keys(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["provider"], f["instrument"]) for f in body["feeds"]]


def test_status_serves_the_tables_with_ages_and_staleness(client: TestClient) -> None:
    response = client.get("/v1/status")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"feeds", "services"}
    assert feed_keys(body) == [(p, i) for p, i, *_ in FEEDS]
    for feed, (_, _, age, ticks, gaps) in zip(body["feeds"], FEEDS, strict=True):
        assert (feed["ticks"], feed["gaps"]) == (ticks, gaps)
        if age is None:
            assert feed["age_s"] is None and feed["last_exchange_ts"] is None
        else:
            # The request runs right after the rows were written: a few seconds at most between.
            assert age <= feed["age_s"] < age + 10
    fresh, old, only_gaps = body["feeds"]
    assert [fresh["stale"], old["stale"], only_gaps["stale"]] == [False, True, True]
    assert fresh["last_gap_start"] is None and fresh["last_gap_reason"] is None
    assert old["last_gap_start"] == "2023-11-14T22:00:00Z"
    assert old["last_gap_end"] == "2023-11-14T22:00:05Z"
    assert old["last_gap_reason"] == "sequence"
    received = datetime.fromisoformat(old["last_received_ts"])
    exchanged = datetime.fromisoformat(old["last_exchange_ts"])
    assert (received - exchanged).total_seconds() == pytest.approx(0.003)

    [sink] = body["services"]
    assert 2 <= sink.pop("heartbeat_age_s") < 12
    sink.pop("heartbeat_at")
    assert sink == {
        "service": "sink",
        "instance": "sink-1",
        "rows_in": 160,
        "rows_out": 158,
        "rows_refused": 1,
        "batches_failed": 3,
        "circuit": "closed",
        "last_error": "OperationalError: connection lost",
        "last_error_at": "2023-11-14T22:13:20Z",
        "lag": None,
        "started_at": None,
        "alive": True,
    }


def test_stale_after_s_moves_the_threshold(client: TestClient) -> None:
    body = client.get("/v1/status", params={"stale_after_s": 3600}).json()
    assert [f["stale"] for f in body["feeds"]] == [False, False, True]
    body = client.get("/v1/status", params={"stale_after_s": 1}).json()
    assert [f["stale"] for f in body["feeds"]] == [True, True, True]


def test_the_heartbeat_timeout_and_stale_age_come_from_the_settings(
    client: TestClient, database_url: str
) -> None:
    strict = ApiSettings(
        DATABASE_URL=database_url, allow_anonymous=True, heartbeat_timeout_s=1, stale_after_s=1
    )
    with TestClient(create_app(strict)) as strict_client:
        body = strict_client.get("/v1/status").json()
    assert [s["alive"] for s in body["services"]] == [False]  # its heartbeat is 2 s old
    assert [f["stale"] for f in body["feeds"]] == [True, True, True]


@pytest.mark.parametrize(
    ("params", "want"),
    [
        ({"provider": "simulator"}, [("simulator", "SIM-BTC-USD"), ("simulator", "SIM-ETH-USD")]),
        ({"instrument": "BTC-USDT"}, [("binance", "BTC-USDT")]),
        ({"provider": "simulator", "instrument": "SIM-ETH-USD"}, [("simulator", "SIM-ETH-USD")]),
        ({"provider": "binance", "instrument": "SIM-ETH-USD"}, []),
    ],
)
def test_filters_choose_feeds_and_leave_services(
    client: TestClient, params: dict[str, str], want: list[tuple[str, str]]
) -> None:
    response = client.get("/v1/status", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert feed_keys(body) == want
    assert [s["instance"] for s in body["services"]] == ["sink-1"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"provider": "Not A Provider"}, "provider"),
        ({"instrument": "bad instrument!"}, "instrument"),
        ({"instrument": ""}, "instrument"),
        ({"stale_after_s": "0"}, "stale_after_s"),
        ({"stale_after_s": "soon"}, "stale_after_s"),
    ],
)
def test_bad_parameters_are_422(client: TestClient, params: dict[str, str], parameter: str) -> None:
    response = client.get("/v1/status", params=params)
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["query", parameter]]
