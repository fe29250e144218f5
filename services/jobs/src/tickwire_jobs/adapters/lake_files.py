"""Parquet files of the lake: one file per partition, zstd, in row groups sized for readers, with
the column docs in the schema; written to a local spool file, then hashed for the manifest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

# Rows per row group. Readers parallelise and skip by row group: DuckDB and polars hand one to
# each thread and prune by the min/max statistics of exchange_ts, so a day of 1M ticks in ~8
# groups reads on 8 threads and a one-hour query touches one or two groups. Larger groups would
# cost readers parallelism; smaller ones, compression (zstd works per page, dictionaries per
# column chunk) and more ranged GETs on S3. 128 Ki rows of a tick row (~20 mostly null columns)
# make column chunks of tens to hundreds of KB, each one ranged request on S3.
ROW_GROUP_ROWS = 128 * 1024
COMPRESSION = "zstd"


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    rows: int
    sha256: str
    bytes: int


class PartitionFile:
    """A partition's file being written: batches are buffered up to one row group, so the groups
    come out full whatever the size of the pieces fed in."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self.rows = 0
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._writer = pq.ParquetWriter(
            path,
            schema,
            compression=COMPRESSION,
            write_statistics=True,
            store_schema=True,  # keeps the Arrow schema, field docs included, in the footer
        )

    def add(self, batch: pa.RecordBatch) -> None:
        """Append rows that carry the file's columns (in the query's types; converted here)."""
        arrays = [batch.column(f.name).cast(f.type) for f in self.schema]
        self._pending.append(pa.RecordBatch.from_arrays(arrays, schema=self.schema))
        self._pending_rows += batch.num_rows
        self.rows += batch.num_rows
        if self._pending_rows >= ROW_GROUP_ROWS:
            self._flush(keep_remainder=True)

    def _flush(self, *, keep_remainder: bool) -> None:
        table = pa.Table.from_batches(self._pending, schema=self.schema)
        full = (table.num_rows // ROW_GROUP_ROWS) * ROW_GROUP_ROWS if keep_remainder else None
        head = table if full is None else table.slice(0, full)
        if head.num_rows:
            self._writer.write_table(head, row_group_size=ROW_GROUP_ROWS)
        rest = table.slice(head.num_rows)
        self._pending = rest.to_batches() if rest.num_rows else []
        self._pending_rows = rest.num_rows

    def close(self) -> WrittenFile:
        if self._pending_rows:
            self._flush(keep_remainder=False)
        self._writer.close()
        digest = hashlib.sha256()
        size = 0
        with open(self.path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
                size += len(block)
        return WrittenFile(self.path, self.rows, digest.hexdigest(), size)

    def abort(self) -> None:
        self._writer.close()
        self.path.unlink(missing_ok=True)
