"""Idempotent batch writes into one table (binary COPY into a session-local staging table, then
INSERT ... SELECT ... ON CONFLICT DO NOTHING, or DO UPDATE where a newer row replaces a stored
one), and writes that set aside the rows it refuses."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from tickwire_sink.domain.records import Column, Replacement, Row, TableSpec

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Staged wider than stored: psycopg's binary int4/int2 dumpers wrap out-of-range Python ints
# silently, while the database's cast from int8 refuses them (22003) like any other bad value.
_STAGE_TYPES = {"int2": "int8", "smallint": "int8", "int4": "int8", "integer": "int8"}

# Errors that blame the rows, not the connection or the code: invalid values (class 22),
# violated constraints (class 23; ON CONFLICT DO NOTHING already absorbs duplicate keys) and a
# value beyond a limit of the database (54000: a name too long for an index row). psycopg raises
# 54000 as an OperationalError, like a lost connection; retried, its batch would fail for ever.
DATA_ERRORS = (psycopg.DataError, psycopg.IntegrityError, psycopg.errors.ProgramLimitExceeded)


@dataclass(frozen=True)
class Poisoned:
    """A row the database refuses on its own: its index in the batch and the database's error."""

    index: int
    sqlstate: str
    message: str


@dataclass(frozen=True)
class WriteResult:
    inserted: int  # rows that were new
    poisoned: list[Poisoned]  # by index, ascending
    attempts: int  # writes tried, each its own transaction


def _as_time(expr: sql.Composable) -> sql.Composable:
    return sql.SQL("timestamptz 'epoch' + {} * interval '1 microsecond'").format(expr)


def _as_date(expr: sql.Composable) -> sql.Composable:
    return sql.SQL("date '1970-01-01' + {}::int4").format(expr)


def _upsert(
    table: str,
    names: list[str],
    selected: list[sql.Composable],
    stage: sql.Identifier,
    replacement: Replacement,
) -> sql.Composed:
    # One row per key from the batch: DO UPDATE may not touch a row twice in one statement
    # (cardinality_violation), and a batch may hold a record and its correction.
    key = sql.SQL(", ").join(map(sql.Identifier, replacement.key))
    return sql.SQL(
        "INSERT INTO {table} AS stored ({targets}) "
        "SELECT DISTINCT ON ({key}) {selected} FROM {stage} ORDER BY {key}, {rank} "
        "ON CONFLICT ({key}) DO UPDATE SET {updates} WHERE {newer}"
    ).format(
        table=sql.Identifier(table),
        targets=sql.SQL(", ").join(map(sql.Identifier, names)),
        key=key,
        selected=sql.SQL(", ").join(selected),
        stage=stage,
        rank=sql.SQL(replacement.rank),
        updates=sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in replacement.columns
        ),
        newer=sql.SQL(replacement.newer),
    )


def _describe(exc: psycopg.Error) -> str:
    # The primary message names the constraint or the bad value; CONTEXT would name a line of the
    # staging COPY, which means nothing outside this writer.
    return exc.diag.message_primary or str(exc)


class TableWriter:
    """Writes rows (tuples in `columns` order) into `table`; rows already stored are skipped.

    Values of `time_columns` are UTC microseconds, stored as timestamptz; values of `date_columns`
    are days since 1970-01-01 (Avro's date), stored as date; values of `json_columns`
    are JSON-serializable objects, stored as the column's type (json or jsonb). With a
    `replacement`, a row replaces the stored one of its key where it is newer (see Replacement).
    Outside a transaction each write is its own; inside one, a savepoint."""

    def __init__(
        self,
        conn: psycopg.Connection,
        table: str,
        columns: Sequence[Column],
        time_columns: Collection[str] = (),
        json_columns: Collection[str] = (),
        date_columns: Collection[str] = (),
        replacement: Replacement | None = None,
    ) -> None:
        names = [name for name, _ in columns]
        unknown = (set(time_columns) | set(json_columns) | set(date_columns)) - set(names)
        if unknown:
            raise ValueError(f"{table}: no such columns {sorted(unknown)}")
        self.conn = conn
        self.table = table
        self.names = names
        self._json_at = [i for i, name in enumerate(names) if name in json_columns]
        self._stage_types = [
            "int8"
            if name in time_columns or name in date_columns
            else "text"
            if name in json_columns
            else _STAGE_TYPES.get(pg_type, pg_type)
            for name, pg_type in columns
        ]
        # Named after the table and its staged layout: writers of one table with different
        # columns may share a connection without finding each other's staging table.
        layout = ",".join(f"{n}:{t}" for n, t in zip(names, self._stage_types, strict=True))
        digest = hashlib.blake2b(layout.encode(), digest_size=4).hexdigest()
        stage = sql.Identifier(f"{table}_stage_{digest}")
        self._create_stage = sql.SQL(
            "CREATE TEMP TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS"
        ).format(
            stage,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(stage_type))
                for name, stage_type in zip(names, self._stage_types, strict=True)
            ),
        )
        # Inside a caller's transaction no commit empties the staging table between writes.
        self._empty_stage = sql.SQL("TRUNCATE {}").format(stage)
        self._copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            stage, sql.SQL(", ").join(map(sql.Identifier, names))
        )
        selected = [
            _as_time(sql.Identifier(name))
            if name in time_columns
            else _as_date(sql.Identifier(name))
            if name in date_columns
            else sql.SQL("{}::{}").format(sql.Identifier(name), sql.SQL(pg_type))
            if name in json_columns or _STAGE_TYPES.get(pg_type, pg_type) != pg_type
            else sql.Identifier(name)
            for name, pg_type in columns
        ]
        self._insert: sql.Composed = sql.SQL(
            "INSERT INTO {table} ({targets}) SELECT {selected} FROM {stage} ON CONFLICT DO NOTHING"
        ).format(
            table=sql.Identifier(table),
            targets=sql.SQL(", ").join(map(sql.Identifier, names)),
            selected=sql.SQL(", ").join(selected),
            stage=stage,
        )
        if replacement is not None:
            self._insert = _upsert(table, names, selected, stage, replacement)
        self._staged = False
        self._counted: dict[tuple[str, ...], sql.Composed] = {}

    @classmethod
    def for_table(cls, conn: psycopg.Connection, spec: TableSpec) -> TableWriter:
        return cls(
            conn,
            spec.table,
            spec.columns,
            spec.time_columns,
            spec.json_columns,
            spec.date_columns,
            spec.replacement,
        )

    def write(self, rows: Sequence[Row]) -> int:
        """Write `rows` in one transaction, all or none; returns the rows that were new."""
        if not rows:
            return 0
        return self._staged_insert(rows, self._insert, lambda cur: cur.rowcount)

    def write_counted(self, rows: Sequence[Row], by: Sequence[str]) -> dict[tuple[Any, ...], int]:
        """Write `rows` in one transaction, all or none; returns how many were new for each
        value of the `by` columns (as stored), counted by the database in the same statement."""
        if not rows:
            return {}
        statement = self._counted.get(tuple(by))
        if statement is None:
            unknown = set(by) - set(self.names)
            if unknown:
                raise ValueError(f"{self.table}: no such columns {sorted(unknown)}")
            columns = sql.SQL(", ").join(map(sql.Identifier, by))
            statement = sql.SQL(
                "WITH new AS ({insert} RETURNING {columns}) "
                "SELECT {columns}, count(*) FROM new GROUP BY {columns}"
            ).format(insert=self._insert, columns=columns)
            self._counted[tuple(by)] = statement
        return self._staged_insert(
            rows, statement, lambda cur: {tuple(row[:-1]): row[-1] for row in cur.fetchall()}
        )

    def _staged_insert(
        self,
        rows: Sequence[Row],
        statement: sql.Composed,
        result: Callable[[psycopg.Cursor[Any]], T],
    ) -> T:
        # Checked before the COPY: the database would refuse a short row as bad data (22P04),
        # and write_isolating would then set aside rows for a bug in the caller.
        width = len(self.names)
        if any(len(row) != width for row in rows):
            raise ValueError(f"{self.table}: every row must have {width} values")
        staged = map(self._with_json, rows) if self._json_at else rows
        nested = self.conn.info.transaction_status != TransactionStatus.IDLE
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                if not self._staged:
                    cur.execute(self._create_stage)
                    self._staged = True
                elif nested:
                    cur.execute(self._empty_stage)
                with cur.copy(self._copy) as copy:
                    copy.set_types(self._stage_types)
                    write_row = copy.write_row
                    for row in staged:
                        write_row(row)
                cur.execute(statement)
                return result(cur)
        except Exception:
            self._staged = False  # a rolled-back transaction may have taken the staging table
            raise

    def write_isolating(self, rows: Sequence[Row]) -> WriteResult:
        """Write `rows`, setting aside those the database refuses (DATA_ERRORS) and writing the
        others. Any other error, a broken connection first of all, propagates unchanged; the rows
        written until then stay written, which a retry of the whole batch tolerates.

        A refused batch is split in halves, each written in its own transaction and split again
        while refused, down to single rows. A range that is written is never written again, and
        a refused row lies under at most ceil(log2 n) refused ranges, each split into two writes:
        k poison rows among n cost at most 1 + 2 * k * ceil(log2 n) writes; a clean batch, one."""
        if not rows:
            return WriteResult(inserted=0, poisoned=[], attempts=0)
        inserted = attempts = 0
        poisoned: list[Poisoned] = []
        pending = [(0, len(rows))]  # [start, stop) ranges, first half on top
        while pending:
            start, stop = pending.pop()
            attempts += 1
            try:
                inserted += self.write(rows[start:stop])
            except DATA_ERRORS as exc:
                if stop - start == 1:
                    poisoned.append(Poisoned(start, exc.sqlstate or "", _describe(exc)))
                else:
                    middle = (start + stop) // 2
                    pending += [(middle, stop), (start, middle)]
        if poisoned:
            logger.warning(
                "%s: %d of %d rows refused (first: %s %s)",
                self.table,
                len(poisoned),
                len(rows),
                poisoned[0].sqlstate,
                poisoned[0].message,
            )
        return WriteResult(inserted, poisoned, attempts)

    def _with_json(self, row: Row) -> Row:
        # Serialized here and cast by the INSERT, so json and jsonb columns take one path and a
        # value JSON cannot carry (NaN; a NUL, which jsonb refuses) fails as that row's fault.
        values = list(row)
        for i in self._json_at:
            if values[i] is not None:
                values[i] = json.dumps(values[i])
        return tuple(values)
