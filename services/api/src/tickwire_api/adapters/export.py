"""Every tick of an instrument in a range as one JSON array, CSV or Parquet file, streamed chunk
by chunk from a server-side cursor so no export is ever held in memory; and the encoders, which
the paged short-sale routes use for their CSV and Parquet pages too."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]  # ships no type information
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from psycopg_pool import ConnectionPool

CHUNK_ROWS = 10_000

# The same order as /v1/ticks, so an export and a walk of its pages list the same ticks.
_EXPORT = """
SELECT * FROM ticks
WHERE instrument = %(instrument)s
  AND (%(provider)s::text IS NULL OR provider = %(provider)s)
  AND exchange_ts >= %(start)s AND exchange_ts < %(end)s
ORDER BY exchange_ts, dedup_key, provider, kind
"""
_HIDDEN = "dedup_key"  # an internal identity, not part of a tick

_JSONB = 3802  # a jsonb column: its JSON text in a string column (a null stays null)
# PostgreSQL type OIDs of the exported columns; anything else is exported as text.
_ARROW_TYPES: dict[int, pa.DataType] = {
    1184: pa.timestamp("us", tz="UTC"),
    1082: pa.date32(),
    701: pa.float64(),
    700: pa.float32(),
    20: pa.int64(),
    23: pa.int32(),
    21: pa.int16(),
    16: pa.bool_(),
}


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"
    parquet = "parquet"


MEDIA_TYPES = {
    ExportFormat.json: "application/json",
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.parquet: "application/vnd.apache.parquet",
}

# Name, type OID and place in a fetched row, in table order, dedup_key left out.
Columns = list[tuple[str, int, int]]
Chunk = list[tuple[Any, ...]]


def rfc3339(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    # A calendar day (a trade or settlement date) is written as one: 2024-05-31.
    return value.isoformat() if isinstance(value, date) else value


def _json_chunks(columns: Columns, chunks: Iterator[Chunk]) -> Iterator[bytes]:
    yield b"["
    first = True
    for chunk in chunks:
        parts = [
            json.dumps({name: _plain(row[i]) for name, _, i in columns}, allow_nan=False)
            for row in chunk
        ]
        del chunk
        if parts:
            yield (("" if first else ",") + ",".join(parts)).encode()
            first = False
        del parts
    yield b"]"


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: empty for null, a JSON object (a jsonb column) as its JSON text."""
    if value is None:
        return ""
    return _json_text(value) if isinstance(value, dict | list) else _plain(value)


def _json_text(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"), sort_keys=True)


def _csv_chunks(columns: Columns, chunks: Iterator[Chunk]) -> Iterator[bytes]:
    def written(rows: Iterable[Iterable[Any]]) -> bytes:
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n").writerows(rows)
        return text.getvalue().encode()

    yield written([[name for name, _, _ in columns]])
    for chunk in chunks:
        block = written([csv_cell(row[i]) for _, _, i in columns] for row in chunk)
        del chunk
        yield block


class _Drain(io.RawIOBase):
    """A write-only stream whose bytes are taken away as they come; it counts what it was given,
    since the Parquet writer records the position of every page in the file footer."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        block = bytes(data)
        self._parts.append(block)
        self._position += len(block)
        return len(block)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        block = b"".join(self._parts)
        self._parts.clear()
        return block


def _parquet_chunks(columns: Columns, chunks: Iterator[Chunk]) -> Iterator[bytes]:
    schema = pa.schema([(name, _ARROW_TYPES.get(oid, pa.string())) for name, oid, _ in columns])
    drain = _Drain()
    with pq.ParquetWriter(drain, schema) as writer:
        for chunk in chunks:
            if chunk:
                arrays = [
                    pa.array(
                        [None if row[i] is None else _json_text(row[i]) for row in chunk]
                        if oid == _JSONB
                        else [row[i] for row in chunk],
                        type=field.type,
                    )
                    for (_, oid, i), field in zip(columns, schema, strict=True)
                ]
                del chunk
                writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
                del arrays
                yield drain.take()
    yield drain.take()  # the footer, written on close


_ENCODERS: dict[ExportFormat, Callable[[Columns, Iterator[Chunk]], Iterator[bytes]]] = {
    ExportFormat.json: _json_chunks,
    ExportFormat.csv: _csv_chunks,
    ExportFormat.parquet: _parquet_chunks,
}


def encode(format: ExportFormat, columns: Columns, chunks: Iterator[Chunk]) -> Iterator[bytes]:
    """Rows of `columns` (name, type OID, place in the row) as `format`, a chunk at a time."""
    return _ENCODERS[format](columns, chunks)


def export(
    pool: ConnectionPool,
    format: ExportFormat,
    instrument: str,
    provider: str | None,
    start: datetime,
    end: datetime,
) -> Iterator[bytes]:
    """The ticks of [start, end), oldest first, encoded as `format` a chunk at a time."""
    params = {"instrument": instrument, "provider": provider, "start": start, "end": end}
    # The connection is held for as long as the response streams, and given back when the
    # generator ends, whether the last byte was sent or the client went away.
    with pool.connection() as conn, conn.cursor(name="tick_export") as cur:
        cur.itersize = CHUNK_ROWS
        cur.execute(_EXPORT, params)
        columns = [
            (c.name, c.type_code, i)
            for i, c in enumerate(cur.description or [])
            if c.name != _HIDDEN
        ]

        def chunks() -> Iterator[Chunk]:
            # One chunk alive at a time: let go of the last before fetching the next.
            while True:
                rows = cur.fetchmany(CHUNK_ROWS)
                if not rows:
                    return
                yield rows
                del rows

        yield from encode(format, columns, chunks())
