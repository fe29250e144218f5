"""Bulk export against a real TimescaleDB: JSON, CSV and Parquet list the same ticks in the same
order, the range cap is a 422, and a large export streams without holding the data in memory."""

import csv
import io
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import anyio
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from tickwire_api.adapters import export as export_adapter
from tickwire_api.app import create_app
from tickwire_api.settings import ApiSettings
from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.migrations import migrate
from tickwire_sink.adapters.ticks import TickWriter

pytestmark = pytest.mark.integration

T0 = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z
SECOND = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(micros: int) -> str:
    return (EPOCH + timedelta(microseconds=micros)).isoformat()


def tick(provider: str, i: int, **changes: Any) -> dict[str, Any]:
    ts = T0 + (i // 3) * SECOND + i  # several ticks per second, odd microseconds
    return {
        "provider": provider,
        "instrument": "SIM-BTC-USD",
        "kind": "quote",
        "exchange_ts": ts,
        "received_ts": ts + 7,
        "bid_price": 100.0 + i / 8,
        "ask_price": 100.5 + i / 3,
        "venue_seq": i,
        **changes,
    }


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        TickWriter(conn, AvroSerde().schema("tick")).write(
            [tick("simulator", i) for i in range(40)]
            + [tick("binance", i) for i in range(0, 40, 3)]
            + [
                tick(
                    "simulator",
                    41,
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
        yield conn


@pytest.fixture
def client(conn: psycopg.Connection, database_url: str) -> Iterator[TestClient]:
    settings = ApiSettings(DATABASE_URL=database_url, max_export_days=3, allow_anonymous=True)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


RANGE = {"instrument": "SIM-BTC-USD", "start": iso(T0), "end": iso(T0 + 3600 * SECOND)}


def export(client: TestClient, form: str, **params: Any) -> bytes:
    response = client.get("/v1/export/ticks", params={**RANGE, **params, "format": form})
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith(f'.{form}"')
    return response.content


def rfc3339(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return value


def table_columns(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = 'ticks' ORDER BY ordinal_position"
    ).fetchall()
    return [name for (name,) in rows if name != "dedup_key"]


def test_json_lists_every_tick_of_the_range_in_order(
    client: TestClient, conn: psycopg.Connection
) -> None:
    served = client.get("/v1/export/ticks", params=RANGE)
    assert served.headers["content-type"].startswith("application/json")
    ticks = served.json()
    expected = conn.execute(
        "SELECT provider, kind, venue_seq FROM ticks WHERE instrument = 'SIM-BTC-USD'"
        " ORDER BY exchange_ts, dedup_key, provider, kind"
    ).fetchall()
    assert [(t["provider"], t["kind"], t["venue_seq"]) for t in ticks] == expected
    assert len(ticks) == 40 + 14 + 1
    assert all(list(t) == table_columns(conn) for t in ticks)
    gap = next(t for t in ticks if t["kind"] == "gap")
    assert gap["gap_end_ts"] == "2023-11-14T22:20:00.000000Z" and gap["bid_price"] is None
    binance = export(client, "json", provider="binance")
    assert binance.startswith(b"[") and binance.endswith(b"]")


def test_csv_and_parquet_equal_the_json(client: TestClient, conn: psycopg.Connection) -> None:
    import json

    ticks: list[dict[str, Any]] = json.loads(export(client, "json"))
    assert len(ticks) == 55

    header, *rows = list(csv.reader(io.StringIO(export(client, "csv").decode())))
    assert header == table_columns(conn)
    as_text = [["" if v is None else str(v) for v in t.values()] for t in ticks]
    assert rows == as_text

    table = pq.read_table(io.BytesIO(export(client, "parquet")))
    assert table.column_names == table_columns(conn)
    for name in ("exchange_ts", "received_ts", "gap_end_ts"):
        assert table.schema.field(name).type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("bid_price").type == pa.float64()
    assert table.schema.field("venue_seq").type == pa.int64()
    parquet = [{k: rfc3339(v) for k, v in row.items()} for row in table.to_pylist()]
    assert parquet == ticks


def test_an_empty_range_is_a_valid_empty_file(client: TestClient) -> None:
    empty = {"start": iso(T0 - 3600 * SECOND), "end": iso(T0)}
    assert export(client, "json", **empty) == b"[]"
    header = export(client, "csv", **empty).decode().splitlines()
    assert len(header) == 1 and header[0].startswith("exchange_ts,received_ts,provider")
    assert pq.read_table(io.BytesIO(export(client, "parquet", **empty))).num_rows == 0


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"end": iso(T0 + (3 * 86_400 + 1) * SECOND)}, "end"),
        ({"end": iso(T0)}, "end"),
        ({"format": "xlsx"}, "format"),
        ({"instrument": "SIM BTC"}, "instrument"),
    ],
)
def test_a_bad_request_is_a_422_naming_the_parameter(
    client: TestClient, params: dict[str, Any], parameter: str
) -> None:
    response = client.get("/v1/export/ticks", params={**RANGE, **params})
    assert response.status_code == 422, response.text
    assert [e["loc"][-1] for e in response.json()["detail"]] == [parameter]


BULK_ROWS = 200_000

# Rows made by the database itself: a 200k-row write through Python would dominate the test.
_BULK = """
INSERT INTO ticks (exchange_ts, received_ts, provider, instrument, kind, dedup_key,
                   bid_price, bid_amount, ask_price, ask_amount, last_traded_price,
                   last_traded_volume, day_high, day_low, volume_24h, high_24h, low_24h,
                   venue_seq)
SELECT to_timestamp(1700000000) + i * interval '1 millisecond',
       to_timestamp(1700000000) + i * interval '1 millisecond' + interval '7 microseconds',
       'simulator', 'SIM-BULK', 'ticker', i::text, 100 + i / 8.0, 1 + i / 3.0, 100.5 + i / 8.0,
       2 + i / 3.0, 100.25 + i / 8.0, i / 7.0, 101 + i / 8.0, 99 + i / 8.0, 1000 + i / 9.0,
       102 + i / 8.0, 98 + i / 8.0, i
FROM generate_series(0, %s - 1) AS i
"""


class Received:
    """An ASGI server's side of one request that counts the body and keeps only its last line: the
    test client gathers a whole body before handing it over, which would hide what streaming
    saves."""

    def __init__(self) -> None:
        self.status = 0
        self.size = self.lines = 0
        self.last = b""

    async def drive(self, app: Any, params: dict[str, str]) -> None:
        done = anyio.Event()
        requested = False

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif message["type"] == "http.response.body":
                block = message.get("body", b"")
                self.size += len(block)
                self.lines += block.count(b"\n")
                self.last = (self.last + block)[-2000:]
                if not message.get("more_body", False):
                    done.set()

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/v1/export/ticks",
            "raw_path": b"/v1/export/ticks",
            "query_string": urlencode(params).encode(),
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 1),
            "server": ("testserver", 80),
            "root_path": "",
            "state": {},
        }
        await app(scope, receive, send)


def test_a_large_export_streams_in_bounded_memory(
    client: TestClient, conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Smaller chunks than in production: memory must follow the chunk, not the data, and 200k
    # rows are then many chunks (a 10k-row chunk of Python rows outweighs its CSV several times).
    monkeypatch.setattr(export_adapter, "CHUNK_ROWS", 2_000)
    conn.execute(_BULK, (BULK_ROWS,))
    conn.commit()
    params = {
        "instrument": "SIM-BULK",
        "start": iso(T0),
        "end": iso(T0 + 3600 * SECOND),
        "format": "csv",
    }
    received = Received()
    tracemalloc.start()
    try:
        anyio.run(received.drive, client.app, params)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size, lines, last = received.size, received.lines, received.last
    assert received.status == 200
    assert lines == BULK_ROWS + 1
    assert last.rstrip().split(b"\n")[-1].split(b",")[0] == b"2023-11-14T22:16:39.999000Z"
    assert peak < size / 4, (peak, size)


def test_a_time_outside_utcs_range_is_a_422_not_a_crash(client) -> None:
    # Found by schemathesis: year 1 at +00:01 is before datetime's minimum once in UTC.
    response = client.get(
        "/v1/export/ticks",
        params={
            "instrument": "X",
            "start": "0001-01-01T00:00:00+00:01",
            "end": "0002-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "start"]
