"""The sink's batch handler: records of every stored topic into their tables, one writer per
table on one connection. A row the database refuses on its own is set aside (the batch is
bisected) and goes to the dead-letter topic with the database's error; the rest is written.
An error of the connection propagates: the run loop then commits nothing and retries.

After each batch the feeds' status is upserted from its ticks, and at most every
`heartbeat_every_s` the sink's own row of service_status (and once more on close). A batch's
ticks are written at once, the database counting the new rows of each feed part (a feed's
ticks, its gap events), so a redelivered tick or gap is never counted twice; when it refuses a
row, the parts are written one at a time and the refused rows set aside.
A batch is one transaction (each write a savepoint in it, so a refused row rolls back only its
own write): the feeds' status commits with the ticks it counts, and a connection lost midway
leaves nothing of the batch behind for the retry to account for."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from prometheus_client import Counter

from tickwire_core.batch import Consumed, Outcome, Reject, event_time, reject
from tickwire_core.clock import now_us
from tickwire_core.heartbeat import LoopStats
from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.status import write_feeds, write_heartbeat, write_reported
from tickwire_sink.adapters.table_writer import DATA_ERRORS, Poisoned, TableWriter, WriteResult
from tickwire_sink.adapters.ticks import TickWriter
from tickwire_sink.domain.records import DEDUP_TALLIES, TABLES, Row, tally_rows
from tickwire_sink.domain.status import (
    GAP,
    FeedPart,
    SinkCounters,
    feed_parts,
    feed_updates,
    heartbeat_due,
)

logger = logging.getLogger(__name__)

ROWS_WRITTEN = Counter("tickwire_sink_rows_written_total", "New rows written", ["table"])
ROWS_SKIPPED = Counter("tickwire_sink_rows_duplicate_total", "Rows already stored", ["table"])
ROWS_REFUSED = Counter(
    "tickwire_sink_rows_refused_total", "Rows the database refused", ["table", "sqlstate"]
)

HEARTBEAT = "heartbeat"
TALLY = "dedup_tally"
REFUSED = "db_refused"  # reason code of a dead letter the database would not store
UNMAPPABLE = "unmappable"  # a record that lacks what its table needs
# What tells the feed parts of written ticks apart, as the ticks table stores it.
_PART_COLUMNS = ("provider", "instrument", "kind", "history")


class _Tables:
    """The writers of one connection."""

    def __init__(self, conn: psycopg.Connection, serde: AvroSerde) -> None:
        self.conn = conn
        self.ticks = TickWriter(conn, serde.schema("tick"))
        self.others = {name: TableWriter.for_table(conn, spec) for name, spec in TABLES.items()}
        self.tallies = TableWriter.for_table(conn, DEDUP_TALLIES)


class SinkHandler:
    def __init__(
        self,
        database_url: str,
        serde: AvroSerde,
        schemas: Mapping[str, str],
        *,
        instance: str | None = None,
        heartbeat_every_s: float = 5.0,
    ) -> None:
        """`schemas`: input topic -> the schema of its records (tick, bar, anomaly, ...);
        `instance`: this sink's name in service_status (by default the host's name)."""
        self.database_url = database_url
        self.serde = serde
        self.schemas = dict(schemas)
        self.instance = instance or socket.gethostname()
        self.heartbeat_every_s = heartbeat_every_s
        self.counters = SinkCounters(started_at=now_us())
        self._heartbeat_at: float | None = None
        self._tables: _Tables | None = None

    def _connected(self) -> _Tables:
        if self._tables is None or self._tables.conn.closed:
            conn = psycopg.connect(
                self.database_url, connect_timeout=5, application_name="tickwire-sink"
            )
            self._tables = _Tables(conn, self.serde)
        return self._tables

    def __call__(self, records: list[Consumed]) -> Outcome:
        counters = self.counters
        if counters.circuit == "open":
            counters.circuit = "half_open"  # the loop's retry after its wait
        try:
            outcome = self._handle(records)
        except Exception as exc:
            counters.failed(f"{type(exc).__name__}: {exc}", now_us())
            if not isinstance(exc, psycopg.OperationalError):
                # The database answers: say why the batch failed. Without it, the next success
                # does (waiting for a connection here would only delay the retry).
                self._beat()
            raise
        # Heartbeats of the other services are status, not data: not counted as the sink's input.
        counters.rows_in += sum(1 for r in records if self.schemas[r.topic] != HEARTBEAT)
        counters.rows_refused += len(outcome.rejects)
        counters.succeeded()
        self._beat()
        return outcome

    def _handle(self, records: list[Consumed]) -> Outcome:
        tables = self._connected()
        by_schema: dict[str, list[Consumed]] = {}
        for record in records:
            by_schema.setdefault(self.schemas[record.topic], []).append(record)
        outcome = Outcome()
        try:
            # One transaction per batch (each table's write a savepoint in it): one commit to
            # wait for instead of one per feed and table, and the feeds' status commits with the
            # ticks it counts.
            with tables.conn.transaction():
                for schema, group in by_schema.items():
                    self._write(tables, schema, group, outcome)
        except psycopg.OperationalError:
            tables.conn.close()  # reconnect on the retry
            raise
        return outcome

    def _beat(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and not heartbeat_due(now, self._heartbeat_at, self.heartbeat_every_s):
            return
        tables = self._tables
        if tables is None or tables.conn.closed:
            return
        try:
            write_heartbeat(tables.conn, "sink", self.instance, self.counters)
        except psycopg.Error as exc:
            # The batch is stored whatever becomes of its heartbeat; the next one tries again.
            logger.warning("service status not written: %s", exc)
            return
        self._heartbeat_at = now

    def _write(self, tables: _Tables, schema: str, group: list[Consumed], outcome: Outcome) -> None:
        rows: list[Any] = []
        kept: list[Consumed] = []
        if schema == HEARTBEAT:  # the other services' status: kept, not counted as data
            write_reported(tables.conn, [record.value for record in group])
            return
        if schema == "tick":
            table = "ticks"
            rows, kept = self._one_by_one(group, lambda t: tables.ticks.rows([t])[0], outcome)
            result = self._write_ticks(tables, rows, kept)
        elif schema == TALLY:
            table = DEDUP_TALLIES.table
            rows, kept = self._tally_rows(group, outcome)
            result = tables.tallies.write_isolating(rows)
        else:
            spec = TABLES[schema]
            table = spec.table
            rows, kept = self._one_by_one(group, spec.to_row, outcome)
            result = tables.others[schema].write_isolating(rows)
        self._account(table, schema, kept, result, outcome)

    def _write_ticks(
        self, tables: _Tables, rows: Sequence[Row], kept: Sequence[Consumed]
    ) -> WriteResult:
        """Write the ticks, then upsert the feeds' status from each feed part's new rows."""
        ticks = [record.value for record in kept]
        parts = feed_parts(ticks)
        try:
            # All parts in one write, the database counting each part's new rows: a handful of
            # round trips a batch where a write per part cost a handful each.
            counted = tables.ticks.table.write_counted(rows, _PART_COLUMNS)
        except DATA_ERRORS:
            # A row the database refuses: each part on its own, setting the refused rows aside.
            result = self._write_tick_parts(tables, rows, kept, parts)
            return WriteResult(result.inserted, result.poisoned, result.attempts + 1)
        new: dict[FeedPart, int] = {}
        for (provider, instrument, kind, history), inserted in counted.items():
            part = FeedPart(provider, instrument, kind == GAP, history)
            new[part] = new.get(part, 0) + inserted
        write_feeds(
            tables.conn,
            feed_updates(
                (part, [ticks[i] for i in indices], new.get(part, 0))
                for part, indices in parts.items()
            ),
        )
        return WriteResult(sum(new.values()), [], 1)

    def _write_tick_parts(
        self,
        tables: _Tables,
        rows: Sequence[Row],
        kept: Sequence[Consumed],
        parts: dict[FeedPart, list[int]],
    ) -> WriteResult:
        """Write the ticks one feed part at a time, setting aside the rows the database refuses,
        then upsert the feeds' status."""
        inserted = attempts = 0
        poisoned: list[Poisoned] = []
        written: list[tuple[FeedPart, list[dict[str, Any]], int]] = []
        for part, indices in parts.items():
            result = tables.ticks.table.write_isolating([rows[i] for i in indices])
            refused = {bad.index for bad in result.poisoned}
            poisoned += [
                Poisoned(indices[bad.index], bad.sqlstate, bad.message) for bad in result.poisoned
            ]
            stored = [kept[i].value for n, i in enumerate(indices) if n not in refused]
            written.append((part, stored, result.inserted))
            inserted += result.inserted
            attempts += result.attempts
        write_feeds(tables.conn, feed_updates(written))
        return WriteResult(inserted, sorted(poisoned, key=lambda bad: bad.index), attempts)

    def _tally_rows(
        self, group: list[Consumed], outcome: Outcome
    ) -> tuple[list[Row], list[Consumed]]:
        """Each tally's rows, and beside each row the record it came from (kept[i] is rows[i]'s),
        so a refused row is traced to its record."""
        rows: list[Row] = []
        kept: list[Consumed] = []
        for record in group:
            try:
                entries = tally_rows(record.value, record.topic, record.partition, record.offset)
            except (KeyError, TypeError, ValueError) as exc:
                outcome.rejects.append(
                    _rejected(record, UNMAPPABLE, f"{type(exc).__name__}: {exc}")
                )
                continue
            rows += entries
            kept += [record] * len(entries)
        return rows, kept

    def _one_by_one(
        self, group: list[Consumed], to_row: Any, outcome: Outcome
    ) -> tuple[list[Any], list[Consumed]]:
        rows, kept = [], []
        for record in group:
            try:
                rows.append(to_row(record.value))
                kept.append(record)
            except (KeyError, TypeError, ValueError) as exc:
                outcome.rejects.append(
                    _rejected(record, UNMAPPABLE, f"{type(exc).__name__}: {exc}")
                )
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
        self.counters.rows_out += result.inserted
        ROWS_SKIPPED.labels(table).inc(len(kept) - result.inserted - len(result.poisoned))
        refused: set[tuple[str, int, int]] = set()
        for bad in result.poisoned:
            record = kept[bad.index]
            position = (record.topic, record.partition, record.offset)
            if position in refused:
                continue  # a tally's second refused entry: its record is dead-lettered once
            refused.add(position)
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
            # Refused for a limit (class 54), the row may be refused for a name too long to index,
            # and the rejects table indexes the names too: its reject leaves them out.
            named = not bad.sqlstate.startswith("54")
            outcome.rejects.append(_rejected(record, REFUSED, message, named=named))

    # The run loop's heartbeat (HeartbeatSender): the loop knows the lag and its breaker's state,
    # and calls this between batches, idle or not, so an idle sink still says it is alive.
    def maybe_send(self, stats: LoopStats) -> None:
        self.counters.lag = stats.lag
        self.counters.circuit = stats.circuit or self.counters.circuit
        if self._tables is None or self._tables.conn.closed:
            if not heartbeat_due(time.monotonic(), self._heartbeat_at, self.heartbeat_every_s):
                return
            try:
                self._connected()
            except psycopg.Error as exc:
                self._heartbeat_at = time.monotonic()  # retried at the next beat, not every loop
                logger.warning("service status not written: %s", exc)
                return
        self._beat()

    def send_last(self, stats: LoopStats) -> None:
        self.counters.lag = stats.lag
        self.counters.circuit = stats.circuit or self.counters.circuit

    def close(self) -> None:
        if self._tables is not None:
            self._beat(force=True)  # the totals at the stop, not those of up to 5 s before
            self._tables.conn.close()


def _rejected(record: Consumed, reason: str, message: str, *, named: bool = True) -> Reject:
    """A reject of a stored kind's record, with the time it is about and, when `named`, the
    provider and instrument."""
    value = record.value
    return reject(
        record,
        reason,
        message,
        provider=value.get("provider") if named else None,
        instrument=value.get("instrument") if named else None,
        event_ts=event_time(value),
    )
