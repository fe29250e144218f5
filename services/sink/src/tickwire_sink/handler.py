"""The sink's batch handler: records of every stored topic into their tables, one writer per
table on one connection. A row the database refuses on its own is set aside (the batch is
bisected) and goes to the dead-letter topic with the database's error; the rest is written.
An error of the connection propagates: the run loop then commits nothing and retries."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from prometheus_client import Counter

from tickwire_core.runloop import Consumed, Outcome, reject
from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.table_writer import TableWriter, WriteResult
from tickwire_sink.adapters.ticks import TickWriter
from tickwire_sink.domain.records import TABLES

logger = logging.getLogger(__name__)

ROWS_WRITTEN = Counter("tickwire_sink_rows_written_total", "New rows written", ["table"])
ROWS_SKIPPED = Counter("tickwire_sink_rows_duplicate_total", "Rows already stored", ["table"])
ROWS_REFUSED = Counter(
    "tickwire_sink_rows_refused_total", "Rows the database refused", ["table", "sqlstate"]
)

REFUSED = "db_refused"  # reason code of a dead letter the database would not store
UNMAPPABLE = "unmappable"  # a record that lacks what its table needs


class _Tables:
    """The writers of one connection."""

    def __init__(self, conn: psycopg.Connection, serde: AvroSerde) -> None:
        self.conn = conn
        self.ticks = TickWriter(conn, serde.schema("tick"))
        self.others = {name: TableWriter.for_table(conn, spec) for name, spec in TABLES.items()}


class SinkHandler:
    def __init__(self, database_url: str, serde: AvroSerde, schemas: Mapping[str, str]) -> None:
        """`schemas`: input topic -> the schema of its records (tick, bar, anomaly, ...)."""
        self.database_url = database_url
        self.serde = serde
        self.schemas = dict(schemas)
        self._tables: _Tables | None = None

    def _connected(self) -> _Tables:
        if self._tables is None or self._tables.conn.closed:
            conn = psycopg.connect(
                self.database_url, connect_timeout=5, application_name="tickwire-sink"
            )
            self._tables = _Tables(conn, self.serde)
        return self._tables

    def __call__(self, records: list[Consumed]) -> Outcome:
        tables = self._connected()
        by_schema: dict[str, list[Consumed]] = {}
        for record in records:
            by_schema.setdefault(self.schemas[record.topic], []).append(record)
        outcome = Outcome()
        try:
            for schema, group in by_schema.items():
                self._write(tables, schema, group, outcome)
        except psycopg.OperationalError:
            tables.conn.close()  # reconnect on the retry
            raise
        return outcome

    def _write(self, tables: _Tables, schema: str, group: list[Consumed], outcome: Outcome) -> None:
        rows: list[Any] = []
        kept: list[Consumed] = []
        if schema == "tick":
            table = "ticks"
            rows, kept = self._one_by_one(group, lambda t: tables.ticks.rows([t])[0], outcome)
            result = tables.ticks.table.write_isolating(rows)
        else:
            spec = TABLES[schema]
            table = spec.table
            rows, kept = self._one_by_one(group, spec.to_row, outcome)
            result = tables.others[schema].write_isolating(rows)
        self._account(table, schema, kept, result, outcome)

    def _one_by_one(
        self, group: list[Consumed], to_row: Any, outcome: Outcome
    ) -> tuple[list[Any], list[Consumed]]:
        rows, kept = [], []
        for record in group:
            try:
                rows.append(to_row(record.value))
                kept.append(record)
            except (KeyError, TypeError, ValueError) as exc:
                outcome.rejects.append(reject(record, UNMAPPABLE, f"{type(exc).__name__}: {exc}"))
        return rows, kept

    def _account(
        self,
        table: str,
        schema: str,
        kept: Sequence[Consumed],
        result: WriteResult,
        outcome: Outcome,
    ) -> None:
        ROWS_WRITTEN.labels(table).inc(result.inserted)
        ROWS_SKIPPED.labels(table).inc(len(kept) - result.inserted - len(result.poisoned))
        for bad in result.poisoned:
            record = kept[bad.index]
            ROWS_REFUSED.labels(table, bad.sqlstate).inc()
            message = f"{table}: SQLSTATE {bad.sqlstate}: {bad.message}"
            if schema == "dead_letter":
                # Not sent back to the topic it came from (it would come round again): the
                # record stays on the dead-letter topic, and this says where.
                logger.error(
                    "dead letter not stored topic=%s partition=%d offset=%d: %s",
                    record.topic,
                    record.partition,
                    record.offset,
                    message,
                )
                continue
            outcome.rejects.append(reject(record, REFUSED, message))

    def close(self) -> None:
        if self._tables is not None:
            self._tables.conn.close()
