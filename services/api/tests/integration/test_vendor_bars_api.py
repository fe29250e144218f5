"""Vendor bars beside computed bars on a real TimescaleDB: each served with its source, vendor
bars as stored (adjusted close included), the `source` filter, and the rule that an answer never
mixes computed and vendor bars unless the client chose so."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tickwire_api.app import create_app
from tickwire_api.settings import ApiSettings
from tickwire_sink.adapters.migrations import migrate

pytestmark = pytest.mark.integration

D0 = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday
DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
COLUMNS = (
    "provider",
    "instrument",
    "interval",
    "start_ts",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "tick_count",
    "source",
    "adj_close",
)

QUOTED = [f'"{c}"' for c in COLUMNS]  # "interval" is a keyword


def bar(
    provider: str, instrument: str, interval: str, start: datetime, i: int, source: str
) -> dict[str, Any]:
    # Quarter prices and whole volumes: sums are exact, so aggregates compare with ==.
    open_, close = 100.0 + (i % 7) / 4, 100.25 + (i % 5) / 4
    computed = source in ("trade", "mid")
    return {
        "provider": provider,
        "instrument": instrument,
        "interval": interval,
        "start_ts": start,
        "open": open_,
        "high": max(open_, close) + (i % 3) / 4,
        "low": min(open_, close) - (i % 2) / 4,
        "close": close,
        "volume": float(1 + i % 11),
        "tick_count": 1 + i % 4 if computed else 0,
        "source": source,
        "adj_close": None if computed else close - 0.5,
    }


TRADING_DAYS = [D0 + n * DAY for n in range(31) if (D0 + n * DAY).weekday() < 5]
AAPL_DAILY = [bar("yahoo", "AAPL", "1d", d, i, "yahoo") for i, d in enumerate(TRADING_DAYS)]
AAPL_HOURLY = [bar("yahoo", "AAPL", "1h", D0 + (14 + i) * HOUR, i, "yahoo") for i in range(6)]
# BTC-USD: trade bars (and a few mid bars) computed from coinbase's ticks over 10:00-12:00, the
# vendor's own minute bars from coinbase over 11:00-13:00, and CoinGecko's daily bars.
TEN = D0 + 10 * HOUR
COMPUTED = [bar("coinbase", "BTC-USD", "1m", TEN + i * MINUTE, i, "trade") for i in range(120)] + [
    bar("coinbase", "BTC-USD", "1m", TEN + i * MINUTE, i, "mid") for i in range(0, 120, 10)
]
COINBASE = [
    bar("coinbase", "BTC-USD", "1m", TEN + HOUR + i * MINUTE, i + 3, "coinbase") for i in range(120)
]
COINGECKO = [bar("coingecko", "BTC-USD", "1d", D0 + n * DAY, n, "coingecko") for n in range(10)]


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO bars ({', '.join(QUOTED)})"
                f" VALUES ({', '.join(['%s'] * len(QUOTED))})",
                [
                    tuple(b[c] for c in COLUMNS)
                    for b in AAPL_DAILY + AAPL_HOURLY + COMPUTED + COINBASE + COINGECKO
                ],
            )
    settings = ApiSettings(DATABASE_URL=database_url, max_buckets=500, allow_anonymous=True)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def rfc3339(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def served(stored: list[dict[str, Any]], interval: str) -> list[dict[str, Any]]:
    """Stored vendor bars as the API serves them: as they are, in the interval asked for."""
    ordered = sorted(stored, key=lambda b: (b["start_ts"], b["provider"], b["source"]))
    return [
        {**b, "interval": interval, "start_ts": rfc3339(b["start_ts"]), "corrected": False}
        for b in ordered
    ]


def aggregated(stored: list[dict[str, Any]], width: timedelta) -> list[dict[str, Any]]:
    """Computed bars aggregated in Python as the database does (buckets on the epoch)."""
    groups: dict[tuple[datetime, str, str], list[dict[str, Any]]] = {}
    for b in sorted(stored, key=lambda b: b["start_ts"]):
        bucket = b["start_ts"] - (b["start_ts"] - datetime(1970, 1, 1, tzinfo=UTC)) % width
        groups.setdefault((bucket, b["provider"], b["source"]), []).append(b)
    return [
        {
            "provider": provider,
            "instrument": members[0]["instrument"],
            "start_ts": rfc3339(bucket),
            "open": members[0]["open"],
            "high": max(m["high"] for m in members),
            "low": min(m["low"] for m in members),
            "close": members[-1]["close"],
            "volume": sum(m["volume"] for m in members),
            "tick_count": sum(m["tick_count"] for m in members),
            "source": source,
            "adj_close": None,
            "corrected": False,
        }
        for (bucket, provider, source), members in sorted(groups.items())
    ]


def get_bars(client: TestClient, path: str = "/v1/bars", **params: Any) -> Any:
    for name in ("start", "end"):
        if isinstance(params.get(name), datetime):
            params[name] = rfc3339(params[name])
    response = client.get(path, params={k: v for k, v in params.items() if v is not None})
    assert response.status_code == 200, response.text
    return response.json()


MONTH = {"start": D0, "end": D0 + 31 * DAY}


@pytest.mark.parametrize("interval", ["1d", "24h"])
@pytest.mark.parametrize("source", [None, "yahoo", "vendor"])
def test_a_vendors_daily_bars_are_served_as_stored(
    client: TestClient, interval: str, source: str | None
) -> None:
    body = get_bars(client, instrument="AAPL", interval=interval, source=source, **MONTH)
    assert body["bars"] == served(AAPL_DAILY, interval)
    assert body["count"] == len(TRADING_DAYS) == 23
    assert body["base_interval"] == "1d" and body["source"] == source
    assert {b["adj_close"] for b in body["bars"]} != {None}


def test_vendor_bars_come_at_the_intervals_stored_and_are_not_aggregated(
    client: TestClient,
) -> None:
    day = {"start": D0, "end": D0 + DAY}
    hourly = get_bars(client, instrument="AAPL", interval="1h", source="yahoo", **day)
    assert hourly["bars"] == served(AAPL_HOURLY, "1h") and hourly["base_interval"] == "1h"
    four_hours = get_bars(client, instrument="AAPL", interval="4h", source="yahoo", **day)
    assert four_hours["bars"] == [] and four_hours["base_interval"] == "4h"
    computed = get_bars(client, instrument="AAPL", interval="1d", source="computed", **MONTH)
    assert computed["bars"] == [] and computed["base_interval"] == "1m"


@pytest.mark.parametrize(
    ("path", "interval", "vendor"),
    [
        ("/v1/bars", "1m", "coinbase"),
        ("/v1/bars", "1d", "coingecko"),
        ("/v1/indicators", "1m", "coinbase"),
    ],
)
def test_computed_and_vendor_bars_are_never_mixed_without_a_source(
    client: TestClient, path: str, interval: str, vendor: str
) -> None:
    start, end = (TEN, TEN + 3 * HOUR) if interval == "1m" else (D0, D0 + DAY)
    params = {"instrument": "BTC-USD", "interval": interval, "start": rfc3339(start)}
    response = client.get(path, params={**params, "end": rfc3339(end)})
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "source"]
    assert "computed bars (mid, trade)" in error["msg"]
    assert f"vendor bars ({vendor})" in error["msg"]
    assert "source=computed" in error["msg"] and "source=vendor" in error["msg"]


def test_each_source_filter_selects_its_bars(client: TestClient) -> None:
    span = {"instrument": "BTC-USD", "start": TEN, "end": TEN + 3 * HOUR}
    computed = get_bars(client, interval="5m", source="computed", **span)
    assert computed["bars"] == [{**b, "interval": "5m"} for b in aggregated(COMPUTED, 5 * MINUTE)]
    assert computed["base_interval"] == "1m"
    trade = get_bars(client, interval="5m", source="trade", **span)
    assert trade["bars"] == [b for b in computed["bars"] if b["source"] == "trade"]
    for source in ("vendor", "coinbase"):
        vendor = get_bars(client, interval="1m", source=source, **span)
        assert vendor["bars"] == served(COINBASE, "1m") and vendor["base_interval"] == "1m"
    one_provider = get_bars(client, interval="1m", source="vendor", provider="coinbase", **span)
    assert one_provider["bars"] == served(COINBASE, "1m")
    assert get_bars(client, interval="1m", source="coingecko", **span)["bars"] == []
    month = {"instrument": "BTC-USD", **MONTH}
    daily = get_bars(client, interval="1d", source="coingecko", **month)
    assert daily["bars"] == served(COINGECKO, "1d") and daily["base_interval"] == "1d"
    summed = get_bars(client, interval="1d", source="computed", **month)
    assert summed["bars"] == [{**b, "interval": "1d"} for b in aggregated(COMPUTED, DAY)]
    assert summed["base_interval"] == "1m"


def test_without_a_source_one_kind_alone_is_served(client: TestClient) -> None:
    computed_only = get_bars(client, instrument="BTC-USD", interval="1m", start=TEN, end=TEN + HOUR)
    assert {b["source"] for b in computed_only["bars"]} == {"trade", "mid"}
    first_hour = [b for b in COMPUTED if b["start_ts"] < TEN + HOUR]
    assert computed_only["bars"] == [
        {**b, "interval": "1m"} for b in aggregated(first_hour, MINUTE)
    ]
    vendor_only = get_bars(
        client, instrument="BTC-USD", interval="1m", start=TEN + 2 * HOUR, end=TEN + 3 * HOUR
    )
    assert vendor_only["bars"] == served(COINBASE[60:], "1m")


def test_indicators_of_a_vendors_daily_bars(client: TestClient) -> None:
    body = get_bars(
        client, "/v1/indicators", instrument="AAPL", interval="1d", source="yahoo", **MONTH
    )
    assert body["source"] == "yahoo" and body["count"] == len(AAPL_DAILY)
    assert [(p["start_ts"], p["close"]) for p in body["points"]] == [
        (rfc3339(b["start_ts"]), b["close"]) for b in AAPL_DAILY
    ]
    assert body["points"][20]["sma_20"] == pytest.approx(
        sum(b["close"] for b in AAPL_DAILY[1:21]) / 20, rel=1e-12
    )
