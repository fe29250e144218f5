"""The history routes against a real TimescaleDB: instruments, paged ticks, bars aggregated at
any interval, anomalies and signals, and a 422 naming the parameter for every bad request."""

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import psycopg
import pytest
from fastapi.testclient import TestClient

from tickwire_api.app import create_app
from tickwire_api.settings import ApiSettings
from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.migrations import migrate
from tickwire_sink.adapters.status import write_feeds
from tickwire_sink.adapters.table_writer import TableWriter
from tickwire_sink.adapters.ticks import TickWriter
from tickwire_sink.domain.records import ANOMALIES, BARS, SIGNALS
from tickwire_sink.domain.status import feed_parts, feed_updates

pytestmark = pytest.mark.integration

T0 = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z, a whole hour plus 13m20s
SECOND = 1_000_000
MINUTE = 60 * SECOND
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
START = EPOCH + timedelta(microseconds=T0)


def iso(micros: int) -> str:
    return (EPOCH + timedelta(microseconds=micros)).isoformat()


def tick(provider: str, i: int, **changes: Any) -> dict[str, Any]:
    # Three ticks per instant: pages must split instants without losing or repeating a tick.
    ts = T0 + (i // 3) * SECOND
    return {
        "provider": provider,
        "instrument": "SIM-BTC-USD",
        "kind": "quote",
        "exchange_ts": ts,
        "received_ts": ts + 7,
        "bid_price": 100.0 + i,
        "ask_price": 100.5 + i,
        "venue_seq": i,
        **changes,
    }


def bar(
    interval: str, step: int, i: int, provider: str = "simulator", source: str = "trade"
) -> dict[str, Any]:
    # Quarter prices and whole volumes: sums are exact, so aggregates compare with ==.
    swing = round(4 * math.sin(i / 5)) / 4
    open_, close = 100.0 + swing, 100.25 + swing + (i % 3) / 4
    return {
        "provider": provider,
        "instrument": "SIM-A",
        "interval": interval,
        "start_ts": T0 + i * step,
        "open": open_,
        "high": max(open_, close) + (i % 4) / 4,
        "low": min(open_, close) - (i % 5) / 4,
        "close": close,
        "volume": float(i % 11),
        "tick_count": 1 + i % 6,
        "source": source,
        # Now and then a bar corrected after it closed (a critical price confirmed as a move).
        "revision": 1 if i % 17 == 5 else 0,
    }


def anomaly(i: int, rule: str, severity: str) -> dict[str, Any]:
    return {
        "provider": "simulator",
        "instrument": "SIM-A" if i % 2 else "SIM-B",
        "ts": T0 + i * SECOND,
        "rule": rule,
        "severity": severity,
        "value": 5.0 + i,
        "threshold": 4.0,
        "detail": f"anomaly {i}",
    }


def signal(i: int, name: str, interval: str) -> dict[str, Any]:
    return {
        "provider": "simulator",
        "instrument": "SIM-A",
        "ts": T0 + i * MINUTE,
        "name": name,
        "value": 100.0 + i / 4,
        "parameters": {"interval": interval, "window": "20"},
    }


# 1s bars over 20 minutes with every seventh second missing; 1m bars over 3 hours, with a few
# quote bars of another provider beside them.
SECOND_BARS = [bar("1s", SECOND, i) for i in range(1200) if i % 7]
MINUTE_BARS = [bar("1m", MINUTE, i) for i in range(180)] + [
    bar("1m", MINUTE, i, provider="coinbase", source="mid") for i in range(0, 180, 13)
]
ANOMALY_ROWS = [
    anomaly(i, rule, severity)
    for i, (rule, severity) in enumerate(
        [("zscore", "warning"), ("zscore", "critical"), ("crossed_market", "critical")] * 4
    )
]
SIGNAL_ROWS = [
    signal(i, name, interval)
    for i in range(6)
    for name in ("sma_20", "ema_12")
    for interval in ("1m", "5m")
]


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        stored = (
            [tick("simulator", i) for i in range(61)]
            + [tick("binance", i) for i in range(0, 61, 4)]
            + [
                tick(
                    "simulator",
                    1000,
                    kind="gap",
                    bid_price=None,
                    ask_price=None,
                    gap_end_ts=T0 + 400 * SECOND,
                    gap_reason="sequence",
                    gap_lost=5,
                ),
                {**tick("simulator", 3), "instrument": "SIM-ETH-USD"},
            ]
        )
        TickWriter(conn, AvroSerde().schema("tick")).write(stored)
        # The feeds' status as the sink keeps it beside the ticks it writes.
        write_feeds(
            conn,
            feed_updates(
                (part, [stored[i] for i in indices], len(indices))
                for part, indices in feed_parts(stored).items()
            ),
        )
        for spec, records in [
            (BARS, SECOND_BARS + MINUTE_BARS),
            (ANOMALIES, ANOMALY_ROWS),
            (SIGNALS, SIGNAL_ROWS),
        ]:
            TableWriter.for_table(conn, spec).write([spec.to_row(r) for r in records])
        yield conn


@pytest.fixture
def client(conn: psycopg.Connection, database_url: str) -> Iterator[TestClient]:
    settings = ApiSettings(
        DATABASE_URL=database_url,
        max_limit=20,
        max_range_days=2,
        max_buckets=500,
        allow_anonymous=True,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_instruments_summary(client: TestClient) -> None:
    response = client.get("/v1/instruments")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "count": 3,
        "instruments": [
            {
                "provider": "binance",
                "instrument": "SIM-BTC-USD",
                "first_tick": "2023-11-14T22:13:20Z",
                "last_tick": "2023-11-14T22:13:40Z",  # i = 60
                "tick_count": 16,
            },
            {
                "provider": "simulator",
                "instrument": "SIM-BTC-USD",
                "first_tick": "2023-11-14T22:13:20Z",
                "last_tick": "2023-11-14T22:13:40Z",  # the gap at i = 1000 is not a tick
                "tick_count": 61,
            },
            {
                "provider": "simulator",
                "instrument": "SIM-ETH-USD",
                "first_tick": "2023-11-14T22:13:21Z",
                "last_tick": "2023-11-14T22:13:21Z",
                "tick_count": 1,
            },
        ],
        "backfilled": [],  # live ticks and computed bars only
    }


def walk(client: TestClient, params: dict[str, Any]) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    cursor: dict[str, str] = {}
    while True:
        response = client.get("/v1/ticks", params={**params, **cursor})
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        if page["next_cursor"] is None:
            return pages
        cursor = {"cursor": page["next_cursor"]}


def test_pages_walk_the_range_without_gaps_or_repeats(
    client: TestClient, conn: psycopg.Connection
) -> None:
    start, end = T0 + 2 * SECOND, T0 + 17 * SECOND
    pages = walk(
        client, {"instrument": "SIM-BTC-USD", "start": iso(start), "end": iso(end), "limit": 7}
    )
    served = [(t["provider"], t["venue_seq"]) for p in pages for t in p["ticks"]]
    expected = conn.execute(
        "SELECT provider, venue_seq FROM ticks WHERE instrument = 'SIM-BTC-USD'"
        " AND exchange_ts >= %s AND exchange_ts < %s"
        " ORDER BY exchange_ts, dedup_key, provider, kind",
        (EPOCH + timedelta(microseconds=start), EPOCH + timedelta(microseconds=end)),
    ).fetchall()
    assert served == expected
    assert len(set(served)) == len(served) == 45 + 11  # i in 6..50, and binance's 8, 12 .. 48
    counts = [p["count"] for p in pages]
    assert counts[:-1] == [7] * (len(pages) - 1) and 0 < counts[-1] <= 7
    assert all(p["limit"] == 7 for p in pages)
    times = [t["exchange_ts"] for p in pages for t in p["ticks"]]
    assert times == sorted(times)


def test_pages_of_one_provider_and_the_default_limit(client: TestClient) -> None:
    params = {"instrument": "SIM-BTC-USD", "start": iso(T0), "end": iso(T0 + 3600 * SECOND)}
    pages = walk(client, {**params, "provider": "binance"})
    assert [t["venue_seq"] for p in pages for t in p["ticks"]] == list(range(0, 61, 4))
    assert {t["provider"] for p in pages for t in p["ticks"]} == {"binance"}
    first = client.get("/v1/ticks", params=params).json()
    assert first["limit"] == 20 and first["count"] == 20 and first["next_cursor"]


def test_a_tampered_or_foreign_cursor_is_a_422(client: TestClient) -> None:
    params = {"instrument": "SIM-BTC-USD", "start": iso(T0), "end": iso(T0 + MINUTE), "limit": 5}
    cursor = client.get("/v1/ticks", params=params).json()["next_cursor"]
    assert client.get("/v1/ticks", params={**params, "cursor": cursor}).status_code == 200
    flipped = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
    other_query = {**params, "start": iso(T0 + SECOND)}
    for bad_params in (
        {**params, "cursor": flipped},
        {**params, "cursor": "not a cursor"},
        {**params, "cursor": "W1siYSJdLCIwIl0"},
        {**other_query, "cursor": cursor},
    ):
        response = client.get("/v1/ticks", params=bad_params)
        assert response.status_code == 422, bad_params
        assert [e["loc"][-1] for e in response.json()["detail"]] == ["cursor"]


RANGE = {"start": iso(T0), "end": iso(T0 + MINUTE)}


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/v1/ticks", {"instrument": "SIM; DROP TABLE ticks", **RANGE}, "instrument"),
        ("/v1/ticks", {"instrument": "SIM-A", "start": iso(T0), "end": iso(T0)}, "end"),
        ("/v1/ticks", {"instrument": "SIM-A", **RANGE, "start": "2023-11-14T22:00:00"}, "start"),
        ("/v1/ticks", {"instrument": "SIM-A", **RANGE, "end": "yesterday"}, "end"),
        ("/v1/ticks", {"instrument": "SIM-A", **RANGE, "end": "2023-11-17T00:00:00Z"}, "end"),
        ("/v1/ticks", {"instrument": "SIM-A", **RANGE, "limit": 21}, "limit"),
        ("/v1/ticks", {"instrument": "SIM-A", **RANGE, "limit": 0}, "limit"),
        ("/v1/ticks", {"instrument": "SIM-A", **RANGE, "provider": "UP"}, "provider"),
        ("/v1/ticks", RANGE, "instrument"),
        ("/v1/bars", {"instrument": "SIM-A", "interval": "2w", **RANGE}, "interval"),
        ("/v1/bars", {"instrument": "SIM-A", "interval": "0s", **RANGE}, "interval"),
        ("/v1/bars", {"instrument": "SIM-A", "interval": "25h", **RANGE}, "interval"),
        ("/v1/bars", {"instrument": "SIM-A", **RANGE}, "interval"),
        (
            "/v1/bars",
            {
                "instrument": "SIM-A",
                "interval": "1s",
                "start": iso(T0),
                "end": iso(T0 + 501 * SECOND),
            },
            "end",
        ),
        ("/v1/bars", {"instrument": "SIM A", "interval": "1m", **RANGE}, "instrument"),
        ("/v1/anomalies", {"severity": "fatal"}, "severity"),
        ("/v1/anomalies", {"rule": "Z-Score"}, "rule"),
        ("/v1/anomalies", {"start": iso(T0), "end": iso(T0 - 1)}, "end"),
        ("/v1/anomalies", {"limit": 21}, "limit"),
        ("/v1/signals", {"name": "sma 20"}, "name"),
        ("/v1/signals", {"interval": "fast"}, "interval"),
        ("/v1/signals", {"instrument": ""}, "instrument"),
    ],
)
def test_every_bad_parameter_is_a_422_naming_it(
    client: TestClient, path: str, params: dict[str, Any], parameter: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert [e["loc"][-1] for e in errors] == [parameter]
    assert all(e["msg"] for e in errors)


def expected_bars(stored: list[dict[str, Any]], width: int, start: int, end: int) -> list[Any]:
    """The same aggregation in Python: buckets aligned on the epoch (as time_bucket's are for
    widths that divide a day), per provider and source, oldest first."""
    groups: dict[tuple[int, str, str], list[dict[str, Any]]] = {}
    for b in sorted(stored, key=lambda b: b["start_ts"]):
        if start <= b["start_ts"] < end:
            bucket = b["start_ts"] // width * width
            groups.setdefault((bucket, b["provider"], b["source"]), []).append(b)
    return [
        {
            "provider": provider,
            "instrument": "SIM-A",
            "start_ts": iso(bucket).replace("+00:00", "Z"),
            "open": members[0]["open"],
            "high": max(m["high"] for m in members),
            "low": min(m["low"] for m in members),
            "close": members[-1]["close"],
            "volume": sum(m["volume"] for m in members),
            "tick_count": sum(m["tick_count"] for m in members),
            "source": source,
            "adj_close": None,
            "corrected": any(m["revision"] > 0 for m in members),
        }
        for (bucket, provider, source), members in sorted(groups.items())
    ]


@pytest.mark.parametrize(
    ("interval", "width", "base", "stored"),
    [
        ("1s", SECOND, "1s", SECOND_BARS),
        ("5s", 5 * SECOND, "1s", SECOND_BARS),
        ("90s", 90 * SECOND, "1s", SECOND_BARS),
        ("1m", MINUTE, "1m", MINUTE_BARS),
        ("15m", 15 * MINUTE, "1m", MINUTE_BARS),
        ("1h", 60 * MINUTE, "1m", MINUTE_BARS),
    ],
)
def test_bars_equal_the_same_aggregation_in_python(
    client: TestClient, interval: str, width: int, base: str, stored: list[dict[str, Any]]
) -> None:
    # A range that cuts into buckets at both ends and crosses hour boundaries.
    start, end = T0 + 3 * SECOND, T0 + 8 * MINUTE + 17 * SECOND
    if base == "1m":
        start, end = T0 + 7 * MINUTE, T0 + 170 * MINUTE
    response = client.get(
        "/v1/bars",
        params={"instrument": "SIM-A", "interval": interval, "start": iso(start), "end": iso(end)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["base_interval"] == base and body["interval"] == interval
    served = [{k: v for k, v in b.items() if k != "interval"} for b in body["bars"]]
    expected = expected_bars(stored, width, start, end)
    assert served == expected
    assert body["count"] == len(expected) > 1
    assert {b["interval"] for b in body["bars"]} == {interval}
    assert any(b["corrected"] for b in body["bars"])  # the stored corrections are in range


def test_bars_of_another_provider_are_empty(client: TestClient) -> None:
    params = {"instrument": "SIM-A", "interval": "1m", "provider": "binance", **RANGE}
    body = client.get("/v1/bars", params=params).json()
    assert body["count"] == 0 and body["bars"] == []


def test_anomalies_newest_first_filtered_by_severity_and_rule(client: TestClient) -> None:
    def served(params: dict[str, Any]) -> list[tuple[str, str, str]]:
        response = client.get("/v1/anomalies", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["count"] == len(body["anomalies"])
        return [(a["ts"], a["rule"], a["severity"]) for a in body["anomalies"]]

    def stored(keep: Any) -> list[tuple[str, str, str]]:
        rows = sorted((a for a in ANOMALY_ROWS if keep(a)), key=lambda a: -a["ts"])
        return [(iso(a["ts"]).replace("+00:00", "Z"), a["rule"], a["severity"]) for a in rows]

    assert served({}) == stored(lambda a: True)
    assert served({"severity": "critical"}) == stored(lambda a: a["severity"] == "critical")
    assert served({"rule": "zscore", "severity": "critical"}) == stored(
        lambda a: a["rule"] == "zscore" and a["severity"] == "critical"
    )
    assert served({"rule": "crossed_market", "instrument": "SIM-A"}) == stored(
        lambda a: a["rule"] == "crossed_market" and a["instrument"] == "SIM-A"
    )
    window = {"start": iso(T0 + 3 * SECOND), "end": iso(T0 + 9 * SECOND), "limit": 4}
    assert served(window) == stored(lambda a: T0 + 3 * SECOND <= a["ts"] < T0 + 9 * SECOND)[:4]


def test_a_confirmed_critical_is_served_as_confirmed_not_critical(
    client: TestClient, conn: psycopg.Connection
) -> None:
    critical = ANOMALY_ROWS[1]
    assert critical["severity"] == "critical"
    correction = {**critical, "severity": "confirmed", "detail": "confirmed as a move"}
    assert TableWriter.for_table(conn, ANOMALIES).write([ANOMALIES.to_row(correction)]) == 1
    conn.commit()

    def served(params: dict[str, Any]) -> list[tuple[str, str]]:
        response = client.get("/v1/anomalies", params={"instrument": "SIM-A", **params})
        assert response.status_code == 200, response.text
        return [(a["ts"], a["severity"]) for a in response.json()["anomalies"]]

    ts = iso(critical["ts"]).replace("+00:00", "Z")
    assert served({"severity": "confirmed"}) == [(ts, "confirmed")]
    assert (ts, "critical") not in served({"severity": "critical"})
    assert (ts, "confirmed") in served({})


def test_signals_newest_first_filtered_by_name_and_interval(client: TestClient) -> None:
    response = client.get("/v1/signals", params={"name": "ema_12", "interval": "5m", "limit": 4})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 4
    assert [(s["name"], s["interval"], s["value"]) for s in body["signals"]] == [
        ("ema_12", "5m", 100.0 + i / 4) for i in (5, 4, 3, 2)
    ]
    assert body["signals"][0]["parameters"] == {"interval": "5m", "window": "20"}
    everything = client.get("/v1/signals", params={"instrument": "SIM-A"}).json()
    assert everything["count"] == 20  # capped by max_limit out of 24
    assert [s["ts"] for s in everything["signals"]] == sorted(
        (s["ts"] for s in everything["signals"]), reverse=True
    )
    none = client.get("/v1/signals", params={"name": "rsi_14"}).json()
    assert none == {"count": 0, "signals": []}


@pytest.mark.parametrize(("interval", "width"), [("1m", MINUTE), ("5m", 5 * MINUTE)])
def test_indicators_equal_pandas_over_the_served_bars_and_the_ones_before(
    client: TestClient, interval: str, width: int
) -> None:
    start, end = T0 + 60 * MINUTE, T0 + 170 * MINUTE
    response = client.get(
        "/v1/indicators",
        params={"instrument": "SIM-A", "interval": interval, "start": iso(start), "end": iso(end)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # The windows read the 50 buckets before start, as the route promises, and nothing older.
    bars = expected_bars(MINUTE_BARS, width, max(T0, start - 50 * width), end)
    expected = []
    for (provider, source), group in {
        key: [b for b in bars if (b["provider"], b["source"]) == key]
        for key in sorted({(b["provider"], b["source"]) for b in bars})
    }.items():
        closes = pd.Series([b["close"] for b in group])
        sma_20, sma_50 = closes.rolling(20).mean(), closes.rolling(50).mean()
        returns = closes.pct_change(fill_method=None)
        for i, b in enumerate(group):
            if b["start_ts"] >= iso(start).replace("+00:00", "Z"):
                expected.append(
                    (
                        b["start_ts"],
                        provider,
                        source,
                        b["close"],
                        None if pd.isna(sma_20[i]) else pytest.approx(sma_20[i], rel=1e-12),
                        None if pd.isna(sma_50[i]) else pytest.approx(sma_50[i], rel=1e-12),
                        None if pd.isna(returns[i]) else pytest.approx(returns[i], rel=1e-12),
                    )
                )
    expected.sort(key=lambda e: (e[0], e[1], e[2]))
    served = [
        (
            p["start_ts"],
            p["provider"],
            p["source"],
            p["close"],
            p["sma_20"],
            p["sma_50"],
            p["return"],
        )
        for p in body["points"]
    ]
    assert served == expected
    assert body["count"] == len(expected) > 10
    trade = [p for p in body["points"] if p["source"] == "trade"]
    if interval == "1m":  # 50 minute bars before start: both windows full from the first point
        assert trade[0]["sma_50"] is not None and trade[0]["sma_20"] is not None
    assert all(p["cross"] in (None, "above", "below") for p in body["points"])


def test_indicators_refuse_what_bars_refuse(client: TestClient) -> None:
    for params, parameter in [
        ({"interval": "2d", **RANGE}, "interval"),
        ({"interval": "1s", "start": iso(T0), "end": iso(T0 + 3600 * SECOND)}, "end"),
        ({"interval": "1m", "start": iso(T0 + MINUTE), "end": iso(T0)}, "end"),
    ]:
        response = client.get("/v1/indicators", params={"instrument": "SIM-A", **params})
        assert response.status_code == 422, (params, response.text)
        assert [e["loc"][-1] for e in response.json()["detail"]] == [parameter]
