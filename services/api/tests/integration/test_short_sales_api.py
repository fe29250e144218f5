"""Short volume, short interest and the coverage of backfilled instruments on a real TimescaleDB:
pages walked to the end in every format (JSON, CSV, Parquet) give exactly the stored rows in
order, filters, refusals naming the parameter, keys, and first and last day per source."""

import csv
import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from tickwire_api.app import create_app
from tickwire_api.settings import ApiSettings
from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.migrations import migrate
from tickwire_sink.adapters.status import write_feeds
from tickwire_sink.adapters.ticks import TickWriter
from tickwire_sink.domain.status import feed_parts, feed_updates
from tickwire_testing.ticks import trade

pytestmark = pytest.mark.integration

KEY = "tw_short_3c9e71d0"
D0 = date(2024, 3, 4)
FETCHED = datetime(2024, 4, 6, 0, 5, 12, 250_000, tzinfo=UTC)
EPOCH_US = datetime(1970, 1, 1, tzinfo=UTC)


def volume(instrument: str, day: int, facility: str = "CNMS", **changes: Any) -> dict[str, Any]:
    total = 1_000_000.0 + 7_919 * day
    return {
        "provider": "finra",
        "instrument": instrument,
        "facility": facility,
        "trade_date": D0 + timedelta(days=day),
        "short_volume": 350_000.0 + 3_331 * day,
        "short_exempt_volume": 1_000.0 + day,
        "total_volume": total,
        "market": "B,Q,N",
        "received_ts": FETCHED,
        **changes,
    }


def interest(instrument: str, n: int) -> dict[str, Any]:
    return {
        "provider": "finra",
        "instrument": instrument,
        "settlement_date": D0 + timedelta(days=15 * n),
        "short_interest": 90_000_000.0 + 1_000_000 * n,
        "previous_short_interest": 89_000_000.0 + 1_000_000 * n if n else None,
        "average_daily_volume": 60_000_000.0,
        "days_to_cover": 1.5 + n / 100,
        "market": "NNM",
        "received_ts": FETCHED,
    }


SHORT_VOLUME = (
    [volume("AAPL", d) for d in range(12) if d != 5]
    # An older file without the exempt column, and a day without any reported volume.
    + [volume("AAPL", 5, short_exempt_volume=None, short_volume=0.0, total_volume=0.0)]
    + [volume("AAPL", d, facility="FNYX") for d in range(3)]
    + [volume("MSFT", d) for d in range(0, 10, 2)]
)
SHORT_INTEREST = [interest("AAPL", n) for n in range(4)] + [interest("MSFT", n) for n in range(2)]
BAR_COLUMNS = '(provider, instrument, "interval", start_ts, open, high, low, close, volume,'
BAR_COLUMNS += " tick_count, source, adj_close)"
MIDNIGHT = datetime(2024, 3, 4, tzinfo=UTC)


def micros(ts: datetime) -> int:
    return (ts - EPOCH_US) // timedelta(microseconds=1)


def insert(conn: psycopg.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    names = list(rows[0])
    conn.cursor().executemany(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})",
        [tuple(r[n] for n in names) for r in rows],
    )


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        insert(conn, "short_volume", SHORT_VOLUME)
        insert(conn, "short_interest", SHORT_INTEREST)
        bars = (
            [
                ("yahoo", "AAPL", "1d", MIDNIGHT + timedelta(days=d), 0, "yahoo", 1.0)
                for d in (0, 1, 2, 7)
            ]
            + [
                ("yahoo", "AAPL", "1h", MIDNIGHT + timedelta(hours=h), 0, "yahoo", 1.0)
                for h in (14, 15)
            ]
            + [
                # Computed from live ticks: not history, never listed as backfilled.
                ("coinbase", "BTC-USD", "1m", MIDNIGHT + timedelta(minutes=m), 3, "trade", None)
                for m in range(3)
            ]
        )
        conn.cursor().executemany(
            f"INSERT INTO bars {BAR_COLUMNS} VALUES (%s, %s, %s, %s, 10, 11, 9, 10.5, 100, %s,"
            " %s, %s)",
            bars,
        )
        backfilled = [
            trade(
                "BTC-USD",
                micros(MIDNIGHT + timedelta(days=d, hours=3)),
                60_000.0,
                0.1,
                provider="binance",
                history=True,
            )
            for d in (0, 0, 4)
        ]
        backfilled[1]["exchange_ts"] += 1  # a trade of its own
        backfilled[1]["trade_id"] = "second"
        live = trade(
            "BTC-USD", micros(MIDNIGHT + timedelta(days=30)), 61_000.0, 0.2, provider="binance"
        )
        ticks = [*backfilled, live]
        TickWriter(conn, AvroSerde().schema("tick")).write(ticks)
        write_feeds(
            conn,
            feed_updates(
                (part, [ticks[i] for i in at], len(at)) for part, at in feed_parts(ticks).items()
            ),
        )
        conn.commit()
        yield conn


@pytest.fixture
def client(conn: psycopg.Connection, database_url: str) -> Iterator[TestClient]:
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    settings = ApiSettings(DATABASE_URL=database_url, api_key_hashes=digest, max_limit=20)
    with TestClient(create_app(settings), headers={"X-API-Key": KEY}) as test_client:
        yield test_client


def served_volume(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as the API serves it: with its short volume ratio, null without volume."""
    total = row["total_volume"]
    ratio = row["short_volume"] / total if total else None
    ordered = {k: v for k, v in row.items() if k not in ("market", "received_ts")}
    return {**ordered, "short_volume_ratio": ratio, "market": row["market"], "received_ts": FETCHED}


EXPECTED = {
    "short-volume": (
        "short_volume",
        lambda keep: [
            served_volume(r)
            for r in sorted(
                SHORT_VOLUME,
                key=lambda r: (r["trade_date"], r["instrument"], r["provider"], r["facility"]),
            )
            if keep(r)
        ],
    ),
    "short-interest": (
        "short_interest",
        lambda keep: [
            r
            for r in sorted(
                SHORT_INTEREST,
                key=lambda r: (r["settlement_date"], r["instrument"], r["provider"]),
            )
            if keep(r)
        ],
    ),
}


def typed(row: dict[str, Any]) -> dict[str, Any]:
    """A served row (JSON or CSV text) back in the stored types."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if value in (None, "") and name != "market":
            out[name] = None
        elif name.endswith("_date"):
            out[name] = date.fromisoformat(value)
        elif name == "received_ts":
            out[name] = datetime.fromisoformat(value)
        elif name in ("provider", "instrument", "facility", "market"):
            out[name] = value
        else:
            out[name] = float(value)
    return out


def walk(client: TestClient, path: str, params: dict[str, Any], format: str) -> list[Any]:
    """Every row of every page, following the cursor from the body (JSON) or the header."""
    rows: list[Any] = []
    cursor: dict[str, str] = {}
    while True:
        response = client.get(f"/v1/{path}", params={**params, **cursor, "format": format})
        assert response.status_code == 200, response.text
        if format == "json":
            page = response.json()
            assert page["count"] == len(page[EXPECTED[path][0]]) <= page["limit"]
            rows += [typed(r) for r in page[EXPECTED[path][0]]]
            following = page["next_cursor"]
        elif format == "csv":
            assert response.headers["content-type"].startswith("text/csv")
            rows += [typed(r) for r in csv.DictReader(io.StringIO(response.text))]
            following = response.headers.get("X-Next-Cursor")
        else:
            table = pq.read_table(io.BytesIO(response.content))
            rows += table.to_pylist()
            following = response.headers.get("X-Next-Cursor")
        if following is None:
            return rows
        cursor = {"cursor": following}


@pytest.mark.parametrize("format", ["json", "csv", "parquet"])
@pytest.mark.parametrize("path", ["short-volume", "short-interest"])
def test_pages_in_every_format_walk_exactly_the_stored_rows(
    client: TestClient, path: str, format: str
) -> None:
    _, expected = EXPECTED[path]
    assert walk(client, path, {"instrument": "AAPL", "limit": 4}, format) == expected(
        lambda r: r["instrument"] == "AAPL"
    )
    assert walk(client, path, {"limit": 3}, format) == expected(lambda r: True)


def test_short_volume_filters_and_ratio(client: TestClient) -> None:
    _, expected = EXPECTED["short-volume"]
    params = {"start": "2024-03-06", "end": "2024-03-10", "facility": "CNMS", "limit": 20}
    assert walk(client, "short-volume", params, "json") == expected(
        lambda r: (
            date(2024, 3, 6) <= r["trade_date"] < date(2024, 3, 10) and r["facility"] == "CNMS"
        )
    )
    body = client.get(
        "/v1/short-volume",
        params={"instrument": "AAPL", "start": "2024-03-09", "end": "2024-03-10"},
    ).json()
    [empty_day] = body["short_volume"]
    assert empty_day["short_volume_ratio"] is None and empty_day["short_exempt_volume"] is None
    first = client.get("/v1/short-volume", params={"instrument": "MSFT", "limit": 1}).json()
    assert first["short_volume"][0]["short_volume_ratio"] == 350_000.0 / 1_000_000.0
    assert client.get("/v1/short-volume", params={"provider": "other"}).json()["count"] == 0


def test_bad_parameters_and_cursors_are_422s_naming_them(client: TestClient) -> None:
    params = {"instrument": "AAPL", "limit": 2}
    cursor = client.get("/v1/short-volume", params=params).json()["next_cursor"]
    flipped = cursor[:12] + ("A" if cursor[12] != "A" else "B") + cursor[13:]
    for path, bad, parameter in [
        ("short-volume", {**params, "cursor": flipped}, "cursor"),
        ("short-volume", {**params, "start": "2024-03-05", "cursor": cursor}, "cursor"),
        ("short-interest", {**params, "cursor": cursor}, "cursor"),
        ("short-volume", {"start": "2024-03-05", "end": "2024-03-05"}, "end"),
        ("short-interest", {"start": "yesterday"}, "start"),
        ("short-volume", {"limit": 21}, "limit"),
        ("short-volume", {"facility": "cnms"}, "facility"),
        ("short-interest", {"format": "xlsx"}, "format"),
        ("short-interest", {"instrument": "AAPL; DROP TABLE short_interest"}, "instrument"),
    ]:
        response = client.get(f"/v1/{path}", params=bad)
        assert response.status_code == 422, (bad, response.text)
        assert [e["loc"][-1] for e in response.json()["detail"]] == [parameter]


def test_without_a_valid_key_every_history_route_is_refused(client: TestClient) -> None:
    for path in ("short-volume", "short-interest", "instruments", "bars"):
        for headers in ({"X-API-Key": ""}, {"X-API-Key": "wrong"}):
            response = client.get(f"/v1/{path}?instrument=AAPL", headers=headers)
            assert response.status_code == 401, path


def test_instruments_list_the_coverage_of_each_backfilled_source(client: TestClient) -> None:
    def entry(dataset: str, source: str, interval: str | None, first: str, last: str, rows: int):
        return {
            "dataset": dataset,
            "source": source,
            "provider": source,
            "interval": interval,
            "first_day": first,
            "last_day": last,
            "rows": rows,
        }

    aapl = {
        "instrument": "AAPL",
        "coverage": [
            entry("bars", "yahoo", "1h", "2024-03-04", "2024-03-04", 2),
            entry("bars", "yahoo", "1d", "2024-03-04", "2024-03-11", 4),
            entry("short_interest", "finra", None, "2024-03-04", "2024-04-18", 4),
            entry("short_volume", "finra", None, "2024-03-04", "2024-03-15", 15),
        ],
    }
    btc = {  # the live trade and the computed bars are not history
        "instrument": "BTC-USD",
        "coverage": [entry("ticks", "binance", None, "2024-03-04", "2024-03-08", 3)],
    }
    msft = {
        "instrument": "MSFT",
        "coverage": [
            entry("short_interest", "finra", None, "2024-03-04", "2024-03-19", 2),
            entry("short_volume", "finra", None, "2024-03-04", "2024-03-12", 5),
        ],
    }
    everything = client.get("/v1/instruments").json()
    assert everything["backfilled"] == [aapl, btc, msft]
    # The live feeds as before; backfilled ticks are in its coverage, not in the feed's status.
    [feed] = everything["instruments"]
    assert (feed["provider"], feed["instrument"], feed["tick_count"]) == ("binance", "BTC-USD", 1)
    assert everything["count"] == 1
    one = client.get("/v1/instruments", params={"instrument": "AAPL"}).json()
    assert one == {"count": 0, "instruments": [], "backfilled": [aapl]}
