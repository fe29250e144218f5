"""Bars, anomalies, signals, dead letters and dedup tallies as table rows: each table's columns
(name, PostgreSQL type) and the mapping of a record to rows in that order, times still UTC
microseconds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Row = tuple[Any, ...]
Column = tuple[str, str]  # (name, PostgreSQL type)


@dataclass(frozen=True)
class Replacement:
    """Rows of a table that a later record of the same natural key replaces, where a plain table
    keeps the first and skips the rest: `key` the unique index's columns, `columns` those the
    newer row replaces, `newer` the SQL condition (on EXCLUDED, the incoming row, and `stored`)
    under which it does, and `rank` the ORDER BY that puts the newest of one key first within a
    batch. A redelivered record replaces nothing, however often it comes and in whatever order."""

    key: tuple[str, ...]
    columns: tuple[str, ...]
    newer: str
    rank: str


@dataclass(frozen=True)
class TableSpec:
    """One table as the writer sees it: its columns in row order, which of them hold UTC
    microseconds stored as timestamptz, which hold mappings stored as jsonb, the mapping of a
    record of `record_name` (its schema) to a row, and which hold days since 1970-01-01 stored as
    date."""

    table: str
    record_name: str
    columns: tuple[Column, ...]
    time_columns: frozenset[str]
    json_columns: frozenset[str]
    to_row: Callable[[Mapping[str, Any]], Row]
    date_columns: frozenset[str] = frozenset()
    replacement: Replacement | None = None

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


def _row(record: Mapping[str, Any], names: list[str], defaults: Mapping[str, Any]) -> Row:
    # A record built in code may omit the fields its schema gives defaults, as Avro would fill
    # them; a missing required field is a bug and raises KeyError.
    return tuple(record.get(n, defaults[n]) if n in defaults else record[n] for n in names)


_BAR_COLUMNS: tuple[Column, ...] = (
    ("provider", "text"),
    ("instrument", "text"),
    ("interval", "text"),
    ("start_ts", "timestamptz"),
    ("open", "float8"),
    ("high", "float8"),
    ("low", "float8"),
    ("close", "float8"),
    ("volume", "float8"),
    ("tick_count", "int4"),
    ("source", "text"),
    ("adj_close", "float8"),
    ("revision", "int4"),
)
_BAR_NAMES = [name for name, _ in _BAR_COLUMNS]
_BAR_KEY = ("provider", "instrument", "interval", "source", "start_ts")
# A corrected bar (a higher revision) replaces the one stored; an equal or lower one, redelivered
# or replayed, changes nothing.
_BAR_REPLACEMENT = Replacement(
    key=_BAR_KEY,
    columns=tuple(name for name in _BAR_NAMES if name not in _BAR_KEY),
    newer="EXCLUDED.revision > coalesce(stored.revision, 0)",
    rank="revision DESC",
)


def bar_row(bar: Mapping[str, Any]) -> Row:
    return _row(bar, _BAR_NAMES, {"adj_close": None, "revision": 0})


_ANOMALY_COLUMNS: tuple[Column, ...] = (
    ("provider", "text"),
    ("instrument", "text"),
    ("ts", "timestamptz"),
    ("rule", "text"),
    ("severity", "text"),
    ("value", "float8"),
    ("threshold", "float8"),
    ("window_mean", "float8"),
    ("window_stddev", "float8"),
    ("window_count", "int4"),
    ("detail", "text"),
)
_ANOMALY_NAMES = [name for name, _ in _ANOMALY_COLUMNS]
_ANOMALY_DEFAULTS = {"window_mean": None, "window_stddev": None, "window_count": None, "detail": ""}


# A critical price the next prices confirmed as a move: its `confirmed` record takes the critical
# row's place (same key), so that reads no longer count it as critical; never the other way.
_ANOMALY_REPLACEMENT = Replacement(
    key=("provider", "instrument", "rule", "ts"),
    columns=("severity", "detail"),
    newer="EXCLUDED.severity = 'confirmed' AND stored.severity = 'critical'",
    rank="severity = 'confirmed' DESC",
)


def anomaly_row(anomaly: Mapping[str, Any]) -> Row:
    return _row(anomaly, _ANOMALY_NAMES, _ANOMALY_DEFAULTS)


_SIGNAL_COLUMNS: tuple[Column, ...] = (
    ("provider", "text"),
    ("instrument", "text"),
    ("ts", "timestamptz"),
    ("name", "text"),
    ("value", "float8"),
    ("parameters", "jsonb"),
    ("interval", "text"),  # not a signal field: parameters["interval"], part of the natural key
)


def signal_row(signal: Mapping[str, Any]) -> Row:
    # A copy of the parameters: the row may outlive the record, and neither should change the other.
    parameters = dict(signal.get("parameters") or {})
    return (
        signal["provider"],
        signal["instrument"],
        signal["ts"],
        signal["name"],
        signal["value"],
        parameters,
        str(parameters.get("interval", "")),
    )


_REJECT_COLUMNS: tuple[Column, ...] = (
    ("reason", "text"),
    ("message", "text"),
    ("service", "text"),
    ("source_topic", "text"),
    ("source_partition", "int4"),
    ("source_offset", "int8"),
    ("source_key", "bytea"),
    ("payload", "bytea"),
    ("rejected_ts", "timestamptz"),
    ("provider", "text"),
    ("instrument", "text"),
    ("event_ts", "timestamptz"),
)
_REJECT_NAMES = [name for name, _ in _REJECT_COLUMNS]
_REJECT_DEFAULTS = {"source_key": None, "provider": None, "instrument": None, "event_ts": None}
# Years 1 to 9999 in UTC microseconds: what timestamptz and every reader's datetime can hold.
_EVENT_TS_RANGE = range(-62_135_596_800_000_000, 253_402_300_800_000_000)


def reject_row(dead_letter: Mapping[str, Any]) -> Row:
    """A dead letter's row; stored_at is the database's to fill. An event time no reader could
    hold (the very thing a record may be rejected for) is stored as unknown: the dead letter
    itself must never be refused for it."""
    row = _row(dead_letter, _REJECT_NAMES, _REJECT_DEFAULTS)
    event_ts = row[-1]
    if event_ts is not None and event_ts not in _EVENT_TS_RANGE:
        return (*row[:-1], None)
    return row


_TALLY_COLUMNS: tuple[Column, ...] = (
    ("provider", "text"),
    ("instrument", "text"),
    ("day", "date"),
    ("duplicates", "int8"),
    ("source_topic", "text"),
    ("source_partition", "int4"),
    ("source_offset", "int8"),
)
_TALLY_NAMES = [name for name, _ in _TALLY_COLUMNS]


def tally_entry_row(entry: Mapping[str, Any]) -> Row:
    """One entry of a dedup_tally record, with the record's position (source_*) added."""
    return _row(entry, _TALLY_NAMES, {})


def tally_rows(tally: Mapping[str, Any], topic: str, partition: int, offset: int) -> list[Row]:
    """A dedup_tally record's rows, one per entry, each keyed by the record's Kafka position:
    a redelivered tally meets its rows' keys and adds nothing."""
    position = {"source_topic": topic, "source_partition": partition, "source_offset": offset}
    return [tally_entry_row({**entry, **position}) for entry in tally["entries"]]


_SHORT_VOLUME_COLUMNS: tuple[Column, ...] = (
    ("provider", "text"),
    ("instrument", "text"),
    ("facility", "text"),
    ("trade_date", "date"),
    ("short_volume", "float8"),
    ("short_exempt_volume", "float8"),
    ("total_volume", "float8"),
    ("market", "text"),
    ("received_ts", "timestamptz"),
)
_SHORT_VOLUME_NAMES = [name for name, _ in _SHORT_VOLUME_COLUMNS]


def short_volume_row(record: Mapping[str, Any]) -> Row:
    return _row(record, _SHORT_VOLUME_NAMES, {"short_exempt_volume": None, "market": ""})


_SHORT_INTEREST_COLUMNS: tuple[Column, ...] = (
    ("provider", "text"),
    ("instrument", "text"),
    ("settlement_date", "date"),
    ("short_interest", "float8"),
    ("previous_short_interest", "float8"),
    ("average_daily_volume", "float8"),
    ("days_to_cover", "float8"),
    ("market", "text"),
    ("received_ts", "timestamptz"),
)
_SHORT_INTEREST_NAMES = [name for name, _ in _SHORT_INTEREST_COLUMNS]
_SHORT_INTEREST_DEFAULTS = {
    "previous_short_interest": None,
    "average_daily_volume": None,
    "days_to_cover": None,
    "market": "",
}


def short_interest_row(record: Mapping[str, Any]) -> Row:
    return _row(record, _SHORT_INTEREST_NAMES, _SHORT_INTEREST_DEFAULTS)


BARS = TableSpec(
    "bars",
    "bar",
    _BAR_COLUMNS,
    frozenset({"start_ts"}),
    frozenset(),
    bar_row,
    replacement=_BAR_REPLACEMENT,
)
ANOMALIES = TableSpec(
    "anomalies",
    "anomaly",
    _ANOMALY_COLUMNS,
    frozenset({"ts"}),
    frozenset(),
    anomaly_row,
    replacement=_ANOMALY_REPLACEMENT,
)
SIGNALS = TableSpec(
    "signals", "signal", _SIGNAL_COLUMNS, frozenset({"ts"}), frozenset({"parameters"}), signal_row
)
REJECTS = TableSpec(
    "rejects",
    "dead_letter",
    _REJECT_COLUMNS,
    frozenset({"rejected_ts", "event_ts"}),
    frozenset(),
    reject_row,
)

DEDUP_TALLIES = TableSpec(
    "dedup_tallies",
    "dedup_tally",
    _TALLY_COLUMNS,
    frozenset(),
    frozenset(),
    tally_entry_row,
    date_columns=frozenset({"day"}),
)

SHORT_VOLUME = TableSpec(
    "short_volume",
    "short_volume",
    _SHORT_VOLUME_COLUMNS,
    frozenset({"received_ts"}),
    frozenset(),
    short_volume_row,
    date_columns=frozenset({"trade_date"}),
)
SHORT_INTEREST = TableSpec(
    "short_interest",
    "short_interest",
    _SHORT_INTEREST_COLUMNS,
    frozenset({"received_ts"}),
    frozenset(),
    short_interest_row,
    date_columns=frozenset({"settlement_date"}),
)

TABLES: dict[str, TableSpec] = {
    spec.record_name: spec
    for spec in (BARS, ANOMALIES, SIGNALS, REJECTS, SHORT_VOLUME, SHORT_INTEREST)
}
"""Each table's spec by the schema name of the records it stores."""
