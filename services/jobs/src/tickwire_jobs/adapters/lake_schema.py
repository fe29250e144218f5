"""A lake kind's file schema: its table's columns (read from the database, so a new column is
exported without a code change) as Arrow types, each with its doc from the kind's Avro schema."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import psycopg
import pyarrow as pa  # type: ignore[import-untyped]

from tickwire_core.serde import default_schema_dir, fingerprint
from tickwire_jobs.domain.lake_kinds import HIVE_KEYS, PARTITION_COLUMNS, Kind
from tickwire_jobs.domain.lake_manifest import KindSchema, schema_fingerprint

UTC_MICROS = pa.timestamp("us", tz="UTC")
# PostgreSQL type -> (Arrow type in the file, Arrow type the CSV text is parsed as). Timestamps
# travel as epoch microseconds (exact, no time-zone text to parse); numeric as float8.
_TYPES: dict[str, tuple[pa.DataType, pa.DataType]] = {
    "text": (pa.string(), pa.string()),
    "character varying": (pa.string(), pa.string()),
    "double precision": (pa.float64(), pa.float64()),
    "real": (pa.float32(), pa.float32()),
    "numeric": (pa.float64(), pa.float64()),
    "bigint": (pa.int64(), pa.int64()),
    "integer": (pa.int32(), pa.int32()),
    "smallint": (pa.int16(), pa.int16()),
    "boolean": (pa.bool_(), pa.bool_()),
    "date": (pa.date32(), pa.date32()),
    "timestamp with time zone": (UTC_MICROS, pa.int64()),
    "jsonb": (pa.string(), pa.string()),
    "json": (pa.string(), pa.string()),
}


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str
    doc: str

    @property
    def file_type(self) -> pa.DataType:
        return _TYPES.get(self.pg_type, (pa.string(), pa.string()))[0]

    @property
    def parse_type(self) -> pa.DataType:
        return _TYPES.get(self.pg_type, (pa.string(), pa.string()))[1]

    def select(self) -> str:
        """The column as the export query selects it (a quoted identifier, converted)."""
        ident = '"' + self.name.replace('"', '""') + '"'
        if self.pg_type == "timestamp with time zone":
            return f"(extract(epoch FROM {ident}) * 1000000)::bigint"
        if self.pg_type == "numeric":
            return f"{ident}::float8"
        if self.pg_type not in _TYPES:
            return f"{ident}::text"
        return ident


@dataclass(frozen=True)
class FileSchema:
    """The columns of a kind's files (partition columns left out) and of its query."""

    kind: Kind
    columns: tuple[Column, ...]  # every exported column, partition columns first
    fingerprints: KindSchema

    @property
    def file_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.name not in self.kind.path_columns)

    def arrow_schema(self) -> pa.Schema:
        fields = [
            pa.field(c.name, c.file_type, metadata={"doc": c.doc} if c.doc else None)
            for c in self.file_columns
        ]
        docs = {c.name: c.doc for c in self.file_columns if c.doc}
        return pa.schema(
            fields,
            metadata={
                "tickwire.kind": self.kind.name,
                "tickwire.schema_fingerprint": self.fingerprints.schema_fingerprint,
                # Readers that ignore Arrow field metadata (DuckDB's parquet_kv_metadata) see
                # the docs here.
                "tickwire.column_docs": json.dumps(docs, sort_keys=True),
            },
        )


@cache
def _avro(name: str) -> tuple[dict[str, str], str]:
    """The field docs of schemas/<name>.avsc and the schema's CRC-64-AVRO fingerprint."""
    raw: dict[str, Any] = json.loads((default_schema_dir() / f"{name}.avsc").read_text())
    docs = {item["name"]: item.get("doc", "") for item in raw["fields"]}
    return docs, fingerprint(raw).hex()


def read_file_schema(conn: psycopg.Connection[Any], kind: Kind) -> FileSchema | None:
    """The kind's file schema from its table, or None when the table does not exist (yet)."""
    rows = conn.execute(
        """
        SELECT a.attname, format_type(a.atttypid, NULL), col_description(a.attrelid, a.attnum)
        FROM pg_attribute a
        WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        (kind.table,),
    ).fetchall()
    if not rows:
        return None
    avro_docs, avro_fingerprint = _avro(kind.schema) if kind.schema else ({}, None)
    columns = [
        Column(name, pg_type, avro_docs.get(name) or comment or "")
        for name, pg_type, comment in rows
        if name not in kind.excluded
    ]
    names = {c.name for c in columns}
    missing = [c for c in (*PARTITION_COLUMNS, kind.time_column, *kind.order) if c not in names]
    if missing:
        raise ValueError(f"table {kind.table} has no column {', '.join(missing)}")
    time_type = next(c.pg_type for c in columns if c.name == kind.time_column)
    if kind.day_from_path and time_type != "date":
        raise ValueError(
            f"table {kind.table} has {kind.time_column} as {time_type}, not a date, so the lake's "
            "partition path cannot hold it"
        )
    # Partition columns first: they lead the sort order and the split into files.
    by_name = {c.name: c for c in columns}
    columns = [by_name[n] for n in PARTITION_COLUMNS] + [
        c for c in columns if c.name not in PARTITION_COLUMNS
    ]
    schema = FileSchema(kind, tuple(columns), KindSchema("", avro_fingerprint))
    shadowed = [c.name for c in schema.file_columns if c.name in HIVE_KEYS]
    if shadowed:
        raise ValueError(
            f"table {kind.table} has column {', '.join(shadowed)}, which the lake's partition "
            "path would shadow for readers"
        )
    file_fp = schema_fingerprint((c.name, str(c.file_type), c.doc) for c in schema.file_columns)
    return dataclasses.replace(schema, fingerprints=KindSchema(file_fp, avro_fingerprint))
