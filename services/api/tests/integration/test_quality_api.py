"""/v1/quality on a real TimescaleDB: pages walked to the end in every format (JSON, CSV,
Parquet) give exactly the stored report rows in order, the maps as objects (JSON) or JSON text
(CSV, Parquet); filters, refusals naming the parameter, and the key."""

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb

from tickwire_api.app import create_app
from tickwire_api.settings import ApiSettings
from tickwire_sink.adapters.migrations import migrate

pytestmark = pytest.mark.integration

KEY = "tw_quality_41d7a2"
D0 = date(2026, 11, 30)
COMPUTED = datetime(2026, 12, 6, 0, 20, 3, 117_000, tzinfo=UTC)
MAPS = ("gaps_by_reason", "rejects_by_reason", "anomalies_by_rule", "bar_agreement")


def report(provider: str, instrument: str, n: int) -> dict[str, Any]:
    """A row as `tickwire quality` writes it; no two alike."""
    day = D0 + timedelta(days=n)
    crypto = provider != "yahoo"
    session = 1440 if crypto else (390 if day.weekday() < 5 else 0)
    covered = max(0, session - 7 * n)
    ticks = 1000 + 13 * n
    return {
        "provider": provider,
        "instrument": instrument,
        "day": day,
        "calendar": "24/7" if crypto else "XNYS",
        "session_minutes": session,
        "covered_minutes": covered,
        "coverage": covered / session if session else None,
        "ticks": ticks,
        "quotes": ticks - 40,
        "trades": 40,
        "tickers": 0,
        "first_tick": datetime(day.year, day.month, day.day, 0, 0, 1, tzinfo=UTC),
        "last_tick": datetime(day.year, day.month, day.day, 23, 59, 58, 500_000, tzinfo=UTC),
        "gaps": n % 3,
        "gap_seconds": 12.5 * (n % 3),
        "gap_lost": 0,
        "gaps_by_reason": {"disconnect": {"gaps": n % 3, "seconds": 12.5 * (n % 3), "lost": 0}}
        if n % 3
        else {},
        "duplicates": n,
        "duplicate_rate": n / (n + ticks),
        "rejects": 2,
        "rejects_by_reason": {"crossed_market": 1, "non_positive_price": 1},
        "late_ticks": 1,
        "anomalies": 3,
        "anomalies_by_rule": {"late_tick": {"warning": 1}, "zscore": {"critical": 2}},
        "vendor_source": "binance" if crypto else None,
        "vendor_close": 100.0 + n if crypto else None,
        "computed_close": 100.25 + n if crypto else None,
        "close_rel_diff": 0.25 / (100.0 + n) if crypto else None,
        "bar_agreement": {
            "binance": {"1m": {"bars": 60, "mean_abs_rel_diff": 0.001, "max_abs_rel_diff": 0.01}}
        }
        if crypto
        else {},
        "computed_at": COMPUTED,
        "tickwire_version": "0.1.0",
    }


ROWS = (
    [report("binance", "BTC-USDT", n) for n in range(9)]
    + [report("yahoo", "AAPL", n) for n in range(7)]
    + [report("coinbase", "BTC-USDT", n) for n in (2, 3)]
)


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        names = list(ROWS[0])
        conn.cursor().executemany(
            f"INSERT INTO quality_daily ({', '.join(names)})"
            f" VALUES ({', '.join(['%s'] * len(names))})",
            [tuple(Jsonb(r[n]) if n in MAPS else r[n] for n in names) for r in ROWS],
        )
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    settings = ApiSettings(DATABASE_URL=database_url, api_key_hashes=digest, max_limit=20)
    with TestClient(create_app(settings), headers={"X-API-Key": KEY}) as test_client:
        yield test_client


def expected(keep: Any = lambda r: True) -> list[dict[str, Any]]:
    ordered = sorted(ROWS, key=lambda r: (r["day"], r["instrument"], r["provider"]))
    return [r for r in ordered if keep(r)]


TEXT = {"provider", "instrument", "calendar", "vendor_source", "tickwire_version"}


def typed(row: dict[str, Any], maps_as_text: bool) -> dict[str, Any]:
    """A served row (JSON or CSV text) back in the stored types."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name in MAPS:
            out[name] = json.loads(value) if maps_as_text else value
        elif value in (None, ""):
            out[name] = None
        elif name == "day":
            out[name] = date.fromisoformat(value)
        elif name in ("first_tick", "last_tick", "computed_at"):
            out[name] = datetime.fromisoformat(value)
        elif name in TEXT:
            out[name] = value
        elif name in ("coverage", "gap_seconds", "duplicate_rate") or "close" in name:
            out[name] = float(value)
        else:
            out[name] = int(value)
    return out


def walk(client: TestClient, params: dict[str, Any], format: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor: dict[str, str] = {}
    while True:
        response = client.get("/v1/quality", params={**params, **cursor, "format": format})
        assert response.status_code == 200, response.text
        if format == "json":
            page = response.json()
            assert page["count"] == len(page["quality"]) <= page["limit"]
            rows += [typed(r, maps_as_text=False) for r in page["quality"]]
            following = page["next_cursor"]
        elif format == "csv":
            assert response.headers["content-type"].startswith("text/csv")
            rows += [typed(r, True) for r in csv.DictReader(io.StringIO(response.text))]
            following = response.headers.get("X-Next-Cursor")
        else:
            table = pq.read_table(io.BytesIO(response.content))
            rows += [
                {k: json.loads(v) if k in MAPS else v for k, v in r.items()}
                for r in table.to_pylist()
            ]
            following = response.headers.get("X-Next-Cursor")
        if following is None:
            return rows
        cursor = {"cursor": following}


@pytest.mark.parametrize("format", ["json", "csv", "parquet"])
def test_pages_in_every_format_walk_exactly_the_stored_rows(
    client: TestClient, format: str
) -> None:
    assert walk(client, {"limit": 4}, format) == expected()
    one = walk(client, {"instrument": "AAPL", "limit": 3}, format)
    assert one == expected(lambda r: r["instrument"] == "AAPL")


def test_filters_by_provider_instrument_and_days(client: TestClient) -> None:
    params = {"instrument": "BTC-USDT", "start": "2026-12-02", "end": "2026-12-04"}
    assert walk(client, params, "json") == expected(
        lambda r: (
            r["instrument"] == "BTC-USDT" and date(2026, 12, 2) <= r["day"] < date(2026, 12, 4)
        )
    )
    coinbase = walk(client, {"provider": "coinbase"}, "json")
    assert [r["day"] for r in coinbase] == [date(2026, 12, 2), date(2026, 12, 3)]
    weekend = client.get(
        "/v1/quality", params={"instrument": "AAPL", "start": "2026-12-05", "end": "2026-12-06"}
    ).json()
    [saturday] = weekend["quality"]
    assert (saturday["session_minutes"], saturday["coverage"]) == (0, None)
    assert client.get("/v1/quality", params={"provider": "other"}).json()["count"] == 0


def test_bad_parameters_and_cursors_are_422s_naming_them(client: TestClient) -> None:
    cursor = client.get("/v1/quality", params={"limit": 2}).json()["next_cursor"]
    for bad, parameter in [
        ({"limit": 2, "start": "2026-12-01", "cursor": cursor}, "cursor"),
        ({"start": "2026-12-05", "end": "2026-12-05"}, "end"),
        ({"start": "yesterday"}, "start"),
        ({"limit": 21}, "limit"),
        ({"format": "xlsx"}, "format"),
        ({"instrument": "AAPL; DROP TABLE quality_daily"}, "instrument"),
    ]:
        response = client.get("/v1/quality", params=bad)
        assert response.status_code == 422, (bad, response.text)
        assert [e["loc"][-1] for e in response.json()["detail"]] == [parameter]


def test_without_a_valid_key_it_is_refused(client: TestClient) -> None:
    for headers in ({"X-API-Key": ""}, {"X-API-Key": "wrong"}):
        assert client.get("/v1/quality", headers=headers).status_code == 401
