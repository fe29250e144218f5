"""The database side of the lake export: a summary of each partition of a day (rows, time range,
an order-free digest of the rows) and the rows themselves, streamed through COPY into Arrow."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import psycopg
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pcsv  # type: ignore[import-untyped]
from psycopg import sql

from tickwire_jobs.adapters.lake_schema import FileSchema
from tickwire_jobs.domain.lake_layout import utc_bounds
from tickwire_jobs.domain.lake_manifest import PartitionKey, PartitionState, content_fingerprint

# CSV blocks Arrow parses at a time: bounds the export's memory whatever the day's size.
_BLOCK_BYTES = 8 << 20


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def _day_filter(schema: FileSchema, day: dt.date) -> sql.Composable:
    kind = schema.kind
    time_type = next(c.pg_type for c in schema.columns if c.name == kind.time_column)
    if time_type == "date":
        condition = sql.SQL("{} = {}").format(_ident(kind.time_column), sql.Literal(day))
    else:
        start, end = utc_bounds(day)
        condition = sql.SQL("{col} >= {start} AND {col} < {end}").format(
            col=_ident(kind.time_column), start=sql.Literal(start), end=sql.Literal(end)
        )
    if kind.where:
        condition = sql.SQL("{} AND ({})").format(condition, sql.SQL(kind.where))
    return condition


def prepare(conn: psycopg.Connection[Any]) -> None:
    """Row text (hashed for the digest) depends on the session's time zone and date style."""
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute("SET DateStyle = 'ISO, YMD'")
    conn.execute("SET extra_float_digits = 1")


def partition_states(
    conn: psycopg.Connection[Any], schema: FileSchema, day: dt.date
) -> list[PartitionState]:
    """One summary per (provider, instrument) of the kind's rows on `day`, read by one aggregate
    query: the digest sums the first 64 bits of each row's md5, so it ignores row order and moves
    with any change of any exported column."""
    kind = schema.kind
    row = sql.SQL(", ").join(_ident(c.name) for c in schema.columns)
    query = sql.SQL(
        "SELECT provider, instrument, count(*), min({t}), max({t}), "
        "sum(('x' || substr(md5(ROW({row})::text), 1, 16))::bit(64)::bigint)::text "
        "FROM {table} WHERE {where} GROUP BY provider, instrument"
    ).format(
        t=_ident(kind.time_column),
        row=row,
        table=_ident(kind.table),
        where=_day_filter(schema, day),
    )
    states = []
    for provider, instrument, rows, first, last, digest in conn.execute(query):
        states.append(
            PartitionState(
                key=PartitionKey(kind.name, provider, instrument),
                rows=int(rows),
                min_time=first.isoformat(),
                max_time=last.isoformat(),
                content=content_fingerprint(
                    int(rows), digest, schema.fingerprints.schema_fingerprint
                ),
            )
        )
    return states


class _CopyStream(io.RawIOBase):
    """COPY TO STDOUT's chunks as a readable file, for Arrow's streaming CSV reader."""

    def __init__(self, chunks: Iterator[bytes | bytearray | memoryview]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = bytes(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def stream_partitions(
    conn: psycopg.Connection[Any],
    schema: FileSchema,
    day: dt.date,
    keys: Iterable[PartitionKey],
) -> Iterator[tuple[PartitionKey, pa.RecordBatch]]:
    """The rows of the given partitions, sorted by provider, instrument, time and the kind's
    tie-breakers, as (partition, batch) pieces: consecutive pieces of one partition belong to the
    same file. Memory stays at a few CSV blocks however large the day."""
    kind = schema.kind
    wanted = sorted({(key.provider, key.instrument) for key in keys})
    if not wanted:
        return
    pairs = sql.SQL(", ").join(
        sql.SQL("({}, {})").format(sql.Literal(p), sql.Literal(i)) for p, i in wanted
    )
    order = ["provider", "instrument", kind.time_column, *kind.order]
    query = sql.SQL(
        "COPY (SELECT {cols} FROM {table} WHERE {where} AND (provider, instrument) IN ({pairs}) "
        "ORDER BY {order}) TO STDOUT (FORMAT csv)"
    ).format(
        cols=sql.SQL(", ").join(sql.SQL(c.select()) for c in schema.columns),
        table=_ident(kind.table),
        where=_day_filter(schema, day),
        pairs=pairs,
        order=sql.SQL(", ").join(_ident(name) for name in order),
    )
    names = [c.name for c in schema.columns]
    with conn.cursor() as cur, cur.copy(query) as copy:
        reader = pcsv.open_csv(
            io.BufferedReader(_CopyStream(iter(copy)), buffer_size=1 << 20),
            read_options=pcsv.ReadOptions(column_names=names, block_size=_BLOCK_BYTES),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types={c.name: c.parse_type for c in schema.columns},
                # PostgreSQL's CSV: NULL is an empty unquoted field, '' a quoted one.
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                true_values=["t"],
                false_values=["f"],
            ),
        )
        for batch in reader:
            yield from _split(kind.name, batch)


def _split(kind: str, batch: pa.RecordBatch) -> Iterator[tuple[PartitionKey, pa.RecordBatch]]:
    """Cut a sorted batch where provider or instrument changes."""
    if batch.num_rows == 0:
        return
    provider, instrument = batch.column("provider"), batch.column("instrument")
    changed = pc.or_(
        pc.not_equal(provider.slice(1), provider.slice(0, len(provider) - 1)),
        pc.not_equal(instrument.slice(1), instrument.slice(0, len(instrument) - 1)),
    )
    cuts = [0, *(int(i) + 1 for i in pc.indices_nonzero(changed).to_pylist()), batch.num_rows]
    for start, end in itertools.pairwise(cuts):
        key = PartitionKey(kind, provider[start].as_py(), instrument[start].as_py())
        yield key, batch.slice(start, end - start)
