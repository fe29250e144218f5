"""Writing ticks: a TableWriter over the ticks table, with the tick schema's columns, the
schema's defaults for omitted fields and each tick's natural key computed on the way in."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from operator import itemgetter
from typing import Any

import psycopg

from tickwire_core.avro_types import field_type
from tickwire_core.identity import stored_dedup_key
from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.table_writer import TableWriter, WriteResult
from tickwire_sink.domain.records import Row
from tickwire_sink.domain.rows import tick_columns

logger = logging.getLogger(__name__)

_PG_TYPES = {
    "string": "text",
    "double": "float8",
    "long": "int8",
    "boolean": "bool",
    "int": "int4",
}


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
        fields = {f["name"]: field_type(f["type"]).name for f in tick_schema["fields"]}
        self.columns = tick_columns(list(fields))
        self._values = itemgetter(*self.columns)
        # A tick built in code may omit fields; the schema's defaults fill them, as Avro would.
        self._defaults = {f["name"]: f.get("default") for f in tick_schema["fields"]}
        self._table = TableWriter(
            conn,
            "ticks",
            [
                ("exchange_ts", "timestamptz"),
                ("received_ts", "timestamptz"),
                ("dedup_key", "text"),
                *((c, "timestamptz" if c in times else _PG_TYPES[fields[c]]) for c in self.columns),
            ],
            time_columns={"exchange_ts", "received_ts", *(c for c in self.columns if c in times)},
        )

    def rows(self, ticks: Sequence[dict[str, Any]]) -> list[Row]:
        """The ticks as rows of the ticks table, in the writer's column order."""
        return [self._row(tick) for tick in ticks]

    def _row(self, tick: dict[str, Any]) -> Row:
        try:
            # A decoded tick has every field: one C-level lookup of all the columns, where a
            # lookup per column cost a third of the sink's own CPU.
            values = self._values(tick)
        except KeyError:
            defaults = self._defaults
            values = tuple(tick.get(c, defaults[c]) for c in self.columns)
        return (tick["exchange_ts"], tick["received_ts"], stored_dedup_key(tick), *values)

    def write(self, ticks: Sequence[dict[str, Any]]) -> int:
        """Write `ticks` in one transaction; returns the rows that were new."""
        inserted = self._table.write(self.rows(ticks))
        if inserted < len(ticks):
            logger.info("batch rows=%d new=%d (the rest were already stored)", len(ticks), inserted)
        return inserted

    @property
    def table(self) -> TableWriter:
        """The underlying writer, for rows already made with rows()."""
        return self._table

    def write_isolating(self, ticks: Sequence[dict[str, Any]]) -> WriteResult:
        """Write `ticks`, setting aside those the database refuses (see TableWriter)."""
        return self._table.write_isolating(self.rows(ticks))
