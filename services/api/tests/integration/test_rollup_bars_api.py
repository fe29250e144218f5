"""`/v1/bars?source=rollup` on the same trades in a database of each TimescaleDB build: plain views
(Apache) and continuous aggregates, refreshed and then real-time (full), answer alike, and with
the bars computed here from the trades written."""

import random
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from tickwire_api.app import create_app
from tickwire_api.settings import ApiSettings
from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.migrations import migrate
from tickwire_sink.adapters.ticks import TickWriter
from tickwire_testing.plugin import new_database
from tickwire_testing.ticks import quote, trade

pytestmark = pytest.mark.integration

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
T0 = datetime(2026, 1, 1, tzinfo=UTC)  # on an hour boundary
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
REFRESHED = T0 + 2 * HOUR  # the full build materializes [T0, REFRESHED); later is real-time
FEEDS = [(p, i) for p in ("simulator", "binance") for i in ("BTC-USD", "ETH-USD")]
WIDTHS = {"1m": MINUTE, "60s": MINUTE, "1h": HOUR}


def micros(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(microseconds=1)


def trades_between(first: datetime, last: datetime, seed: int) -> list[dict[str, Any]]:
    """Trades of every feed at distinct random times in [first, last), some on the first and last
    microsecond of a minute; quarter sizes (sums exact in any order), some trades without one."""
    rng = random.Random(seed)
    span = micros(last) - micros(first)
    out = []
    for provider, instrument in FEEDS:
        edges = [m * 60_000_000 + e for m in range(0, span // 60_000_000, 7) for e in (0, -1)]
        times = {micros(first) + t for t in rng.sample(range(span), 400) + edges if 0 <= t < span}
        for ts in sorted(times):
            size = None if rng.random() < 0.05 else rng.randrange(0, 400) / 4
            price = rng.randrange(100_00, 200_00) / 100
            bought = trade(instrument, ts, price, 0.0, provider=provider)
            out.append({**bought, "last_traded_volume": size})
    return out


A = trades_between(T0, REFRESHED, seed=1)  # written before the refresh
B = trades_between(REFRESHED, T0 + 3 * HOUR, seed=2)  # after it: the aggregates' real-time part
# Quotes at the trades' times: no rollup counts them.
QUOTES = [quote(t["instrument"], t["exchange_ts"] + 1, 1.0, 2.0) for t in A[::10] + B[::10]]


def write(url: str, ticks: list[dict[str, Any]]) -> None:
    shuffled = random.Random(3).sample(ticks, len(ticks))  # arrival order is not time order
    with psycopg.connect(url) as conn:
        TickWriter(conn, AvroSerde().schema("tick")).write(shuffled)


def materialized_rows(url: str, view: str) -> int:
    """Rows the continuous aggregate `view` has materialized (not those computed at query time)."""
    with psycopg.connect(url) as conn:
        schema, table = conn.execute(
            "SELECT materialization_hypertable_schema, materialization_hypertable_name"
            " FROM timescaledb_information.continuous_aggregates WHERE view_name = %s",
            (view,),
        ).fetchone() or ("", "")
        count = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
        ).fetchone()
    return int(count[0]) if count else -1


@pytest.fixture(scope="module")
def clients(timescale_server_url: str, apache_server_url: str) -> Iterator[dict[str, TestClient]]:
    """An API on a database of each build holding the same ticks, by build."""
    with ExitStack() as stack:
        servers = {"timescale": timescale_server_url, "apache": apache_server_url}
        urls = {build: stack.enter_context(new_database(url)) for build, url in servers.items()}
        for url in urls.values():
            with psycopg.connect(url) as conn:
                migrate(conn)
            write(url, A + QUOTES)
        # A refresh cannot run inside a transaction.
        with psycopg.connect(urls["timescale"], autocommit=True) as admin:
            for view in ("bars_1m", "bars_1h"):
                admin.execute(
                    "CALL refresh_continuous_aggregate(%s, %s, %s)", (view, T0, REFRESHED)
                )
        for url in urls.values():
            write(url, B)
        assert materialized_rows(urls["timescale"], "bars_1m") == len(bars(A, MINUTE))
        assert materialized_rows(urls["timescale"], "bars_1h") == len(bars(A, HOUR))
        with psycopg.connect(urls["apache"]) as conn:
            kinds = conn.execute(
                "SELECT count(*) FROM pg_views WHERE viewname IN ('bars_1m', 'bars_1h')"
            ).fetchone()
            assert kinds == (2,)  # plain views there
        yield {
            build: stack.enter_context(
                TestClient(create_app(ApiSettings(DATABASE_URL=url, allow_anonymous=True)))
            )
            for build, url in urls.items()
        }


def rfc3339(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def bars(trades: list[dict[str, Any]], width: timedelta) -> list[dict[str, Any]]:
    """OHLCV per bucket, provider and instrument, oldest first, as /v1/bars serves rollup bars."""
    groups: dict[tuple[datetime, str, str], list[dict[str, Any]]] = {}
    for t in sorted(trades, key=lambda t: t["exchange_ts"]):
        ts = EPOCH + timedelta(microseconds=t["exchange_ts"])
        bucket = ts - (ts - EPOCH) % width
        groups.setdefault((bucket, t["provider"], t["instrument"]), []).append(t)
    return [
        {
            "provider": provider,
            "instrument": instrument,
            "start_ts": rfc3339(bucket),
            "open": members[0]["last_traded_price"],
            "high": max(m["last_traded_price"] for m in members),
            "low": min(m["last_traded_price"] for m in members),
            "close": members[-1]["last_traded_price"],
            "volume": sum(m["last_traded_volume"] or 0.0 for m in members),
            "tick_count": len(members),
            "source": "rollup",
            "adj_close": None,
            "corrected": False,
        }
        for (bucket, provider, instrument), members in sorted(groups.items())
    ]


def expected(
    instrument: str, provider: str | None, interval: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    chosen = [
        t for t in A + B if t["instrument"] == instrument and provider in (None, t["provider"])
    ]
    return [
        {**b, "interval": interval}
        for b in bars(chosen, WIDTHS[interval])
        if rfc3339(start) <= b["start_ts"] < rfc3339(end)
    ]


def get(client: TestClient, path: str = "/v1/bars", **params: Any) -> Any:
    query = {k: rfc3339(v) if isinstance(v, datetime) else v for k, v in params.items()}
    response = client.get(path, params={k: v for k, v in query.items() if v is not None})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("interval", ["1m", "60s", "1h"])
@pytest.mark.parametrize("provider", [None, "binance"])
@pytest.mark.parametrize(
    ("start", "end"),
    [
        (T0, T0 + 3 * HOUR),  # every trade
        (T0 + 90 * MINUTE, T0 + 150 * MINUTE),  # across the end of the refresh
        (T0 - HOUR, T0 + HOUR),  # before the first trade
    ],
)
def test_both_builds_serve_the_bars_of_the_trades_stored(
    clients: dict[str, TestClient],
    interval: str,
    provider: str | None,
    start: datetime,
    end: datetime,
) -> None:
    span = {"interval": interval, "provider": provider, "start": start, "end": end}
    for instrument in ("BTC-USD", "ETH-USD"):
        full, plain = (
            get(clients[build], instrument=instrument, source="rollup", **span)
            for build in ("timescale", "apache")
        )
        assert full == plain
        assert full["bars"] == expected(instrument, provider, interval, start, end)
        assert full["count"] == len(full["bars"]) > 0
        assert full["source"] == "rollup" and full["interval"] == interval
        assert full["base_interval"] == ("1h" if interval == "1h" else "1m")


def test_rollup_bars_are_served_only_when_asked_for(clients: dict[str, TestClient]) -> None:
    # The bars table is empty here: what other filters serve comes from it alone.
    span = {"instrument": "BTC-USD", "interval": "1m", "start": T0, "end": T0 + 3 * HOUR}
    for client in clients.values():
        for source in (None, "computed", "trade", "vendor"):
            assert get(client, source=source, **span)["bars"] == []


def test_indicators_read_the_same_rollup_bars(clients: dict[str, TestClient]) -> None:
    span = {"instrument": "ETH-USD", "interval": "1m", "start": T0 + HOUR, "end": T0 + 3 * HOUR}
    full, plain = (
        get(clients[build], "/v1/indicators", source="rollup", **span)
        for build in ("timescale", "apache")
    )
    assert full == plain
    shown = expected("ETH-USD", None, "1m", T0 + HOUR, T0 + 3 * HOUR)
    assert [(p["start_ts"], p["provider"], p["close"]) for p in full["points"]] == [
        (b["start_ts"], b["provider"], b["close"]) for b in shown
    ]
    assert full["points"][0]["sma_20"] is not None  # the warm-up read bars before start


@pytest.mark.parametrize(("path", "interval"), [("/v1/bars", "5m"), ("/v1/indicators", "1d")])
def test_other_intervals_of_rollup_bars_are_a_422_naming_those_there_are(
    clients: dict[str, TestClient], path: str, interval: str
) -> None:
    params = {"instrument": "BTC-USD", "interval": interval, "source": "rollup"}
    for client in clients.values():
        response = client.get(
            path, params={**params, "start": rfc3339(T0), "end": rfc3339(T0 + HOUR)}
        )
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", "interval"]
        assert error["msg"].startswith("source=rollup has bars at 1m and 1h only")
        assert f"not at {interval}" in error["msg"]
