"""The lake read back the way its readers read it (DuckDB over hive-partitioned Parquet, locally
or through pyarrow's S3 file system) and the database's rows of the same kind and day, in one
comparable form: the lake tests' and the end-to-end tests' check of an export."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import psycopg
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.dataset as ds  # type: ignore[import-untyped]
from pyarrow import fs

from tickwire_jobs.domain.lake_kinds import Kind

# The partition keys as readers are told to type them (docs/lake.md).
HIVE_SCHEMA = pa.schema(
    [
        ("provider", pa.string()),
        ("type", pa.string()),
        ("instrument", pa.string()),
        ("year", pa.int32()),
        ("month", pa.int32()),
        ("day", pa.int32()),
    ]
)


def database_rows(url: str, kind: Kind, day: dt.date) -> list[tuple[Any, ...]]:
    """The kind's rows of the day as the database has them, partition keys first, sorted."""
    with psycopg.connect(url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) "
                "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                (kind.table,),
            )
            if row[0] not in kind.excluded
        ]
        start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        where = f'"{kind.time_column}" >= %(start)s AND "{kind.time_column}" < %(end)s'
        if kind.where:
            where += f" AND {kind.where}"
        select = ", ".join(f'"{c}"' for c in columns)
        rows = conn.execute(
            f"SELECT {select} FROM {kind.table} WHERE {where}",
            {"start": start, "end": start + dt.timedelta(days=1)},
        ).fetchall()
    return sorted((_normal(dict(zip(columns, row, strict=True))) for row in rows), key=repr)


def _normal(row: dict[str, Any]) -> tuple[Any, ...]:
    out = []
    for name in sorted(row):
        value = row[name]
        if isinstance(value, dict):  # jsonb: the lake keeps its text
            value = json.dumps(value, sort_keys=True)
        elif isinstance(value, str) and name == "parameters":
            value = json.dumps(json.loads(value), sort_keys=True)
        elif isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC)
        out.append((name, value))
    return tuple(out)


def local_lake_rows(root: str, kind: Kind, day: dt.date) -> list[Any]:
    """The kind's rows of the day as DuckDB reads them from a local lake, in the same form."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        relation = con.sql(
            f"SELECT * FROM read_parquet('{root}/*/type={kind.name}/**/*.parquet', "
            "hive_partitioning = true, hive_types = {'provider': VARCHAR, 'type': VARCHAR, "
            "'instrument': VARCHAR, 'year': INTEGER, 'month': INTEGER, 'day': INTEGER})"
        )
        return _picked(relation, kind, day)
    except duckdb.IOException as exc:  # no file matched: the lake has none of this kind
        if "No files found" in str(exc):
            return []
        raise
    finally:
        con.close()


def s3_lake_rows(filesystem: fs.S3FileSystem, root: str, kind: Kind, day: dt.date) -> list[Any]:
    """The same through pyarrow's S3 file system (DuckDB's own httpfs extension would need a
    download): the kind's files as a hive-partitioned dataset, queried by DuckDB."""
    paths = [
        info.path
        for info in filesystem.get_file_info(fs.FileSelector(root, recursive=True))
        if info.path.endswith(".parquet") and f"/type={kind.name}/" in info.path
    ]
    if not paths:
        return []
    dataset = ds.dataset(
        paths,
        filesystem=filesystem,
        format="parquet",
        partitioning=ds.partitioning(HIVE_SCHEMA, flavor="hive"),
        partition_base_dir=root,
    )
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("lake", dataset)
    try:
        return _picked(con.sql("SELECT * FROM lake"), kind, day)
    finally:
        con.close()


def _picked(relation: duckdb.DuckDBPyRelation, kind: Kind, day: dt.date) -> list[Any]:
    picked = relation.filter(f"year = {day.year} AND month = {day.month} AND day = {day.day}")
    names = [c for c in picked.columns if c not in ("type", "year", "month", "day")]
    rows = picked.project(", ".join(f'"{c}"' for c in names)).fetchall()
    result = []
    for row in rows:
        record = dict(zip(names, row, strict=True))
        if kind.day_from_path:
            record[kind.time_column] = day
        result.append(_normal(record))
    return sorted(result, key=repr)
