"""Writing ticks: binary COPY into a session-local staging table, then one INSERT ... SELECT ...
ON CONFLICT DO NOTHING into the hypertable, in one transaction per batch."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from typing import Any

import psycopg
from psycopg import sql

from tickwire_core.serde import AvroSerde
from tickwire_sink.domain.rows import dedup_key, tick_columns

logger = logging.getLogger(__name__)

_PG_TYPES = {
    "string": "text",
    "double": "float8",
    "long": "int8",
    "int": "int4",
}


def _avro_base_type(avro_type: Any) -> str:
    if isinstance(avro_type, list):  # ["null", T]
        avro_type = next(t for t in avro_type if t != "null")
    if isinstance(avro_type, dict):
        avro_type = avro_type["type"]
    return str(avro_type)


def _as_time(expr: sql.Composable) -> sql.Composable:
    return sql.SQL("timestamptz 'epoch' + {} * interval '1 microsecond'").format(expr)


class TickWriter:
    """Idempotent writer of tick records (dicts of the tick schema) into the `ticks` table."""

    def __init__(
        self,
        conn: psycopg.Connection,
        tick_schema: dict[str, Any],
        time_columns: Collection[str] | None = None,
    ) -> None:
        """`time_columns`: value columns holding UTC microseconds that are stored as timestamptz
        (by default the tick schema's timestamp-micros fields)."""
        self.conn = conn
        times = AvroSerde().time_fields("tick") if time_columns is None else time_columns
        fields = {f["name"]: _avro_base_type(f["type"]) for f in tick_schema["fields"]}
        self.columns = tick_columns(list(fields))
        # A tick built in code may omit fields; the schema's defaults fill them, as Avro would.
        self._defaults = {f["name"]: f.get("default") for f in tick_schema["fields"]}
        self._types = ["int8", "int8", "text", *(_PG_TYPES[fields[c]] for c in self.columns)]
        staged = ["exchange_us", "received_us", "dedup_key", *self.columns]
        stage_defs = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(pg_type))
            for name, pg_type in zip(staged, self._types, strict=True)
        )
        self._create_stage = sql.SQL(
            "CREATE TEMP TABLE IF NOT EXISTS ticks_stage ({}) ON COMMIT DELETE ROWS"
        ).format(stage_defs)
        self._copy = sql.SQL("COPY ticks_stage ({}) FROM STDIN (FORMAT BINARY)").format(
            sql.SQL(", ").join(map(sql.Identifier, staged))
        )
        targets = ["exchange_ts", "received_ts", "dedup_key", *self.columns]
        selected = [
            _as_time(sql.Identifier("exchange_us")),
            _as_time(sql.Identifier("received_us")),
            sql.Identifier("dedup_key"),
            *(
                _as_time(sql.Identifier(c)) if c in times else sql.Identifier(c)
                for c in self.columns
            ),
        ]
        self._insert = sql.SQL(
            "INSERT INTO ticks ({targets}) SELECT {selected} FROM ticks_stage "
            "ON CONFLICT DO NOTHING"
        ).format(
            targets=sql.SQL(", ").join(map(sql.Identifier, targets)),
            selected=sql.SQL(", ").join(selected),
        )
        self._staged = False

    def write(self, ticks: Sequence[dict[str, Any]]) -> int:
        """Write `ticks` in one transaction; returns the rows that were new."""
        if not ticks:
            return 0
        columns, defaults = self.columns, self._defaults
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                if not self._staged:
                    cur.execute(self._create_stage)
                    self._staged = True
                with cur.copy(self._copy) as copy:
                    copy.set_types(self._types)
                    for tick in ticks:
                        copy.write_row(
                            (
                                tick["exchange_ts"],
                                tick["received_ts"],
                                dedup_key(tick),
                                *(tick.get(c, defaults[c]) for c in columns),
                            )
                        )
                cur.execute(self._insert)
                inserted = cur.rowcount
        except Exception:
            self._staged = False  # a rolled-back transaction took the staging table with it
            raise
        if inserted < len(ticks):
            logger.info("batch rows=%d new=%d (the rest were already stored)", len(ticks), inserted)
        return inserted
