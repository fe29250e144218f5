"""What the lake holds: one entry per stored kind (its table, the rows of it that belong to a
UTC day, their order and the Avro schema whose field docs describe the columns)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One `type=` of the lake. Every kind's table has `provider` and `instrument` columns, which
    become the partition path and are left out of the files (readers get them from the path), as
    is its time column when that is the path's day (`day_from_path`)."""

    name: str
    table: str
    time_column: str
    # Tie-breakers after the time column, so the order of rows in a file is fully determined.
    order: tuple[str, ...] = ()
    # The schemas/<schema>.avsc whose field docs become column docs; None: the table's comments.
    schema: str | None = None
    # A condition that picks this kind's rows where two kinds share a table (ticks and gaps).
    where: str | None = None
    # Bookkeeping columns that say when a row was stored, not what it says.
    excluded: tuple[str, ...] = ()

    @property
    def day_from_path(self) -> bool:
        """Whether the time column is the partition path's day: a date column named `day`. The
        files leave it out, since a hive reader's path `day` would shadow it; readers rebuild it
        from the path's year, month and day. (The file schema checks that it is a date.)"""
        return self.time_column == "day"

    @property
    def path_columns(self) -> frozenset[str]:
        """The table's columns the partition path holds, left out of the files."""
        columns = set(PARTITION_COLUMNS)
        if self.day_from_path:
            columns.add(self.time_column)
        return frozenset(columns)


KINDS: tuple[Kind, ...] = (
    Kind("ticks", "ticks", "exchange_ts", ("kind", "dedup_key"), "tick", where="kind <> 'gap'"),
    Kind("gaps", "ticks", "exchange_ts", ("dedup_key",), "tick", where="kind = 'gap'"),
    Kind("bars", "bars", "start_ts", ("interval", "source"), "bar"),
    Kind("anomalies", "anomalies", "ts", ("rule",), "anomaly"),
    Kind("signals", "signals", "ts", ("name", "interval"), "signal"),
    Kind(
        "short_volume",
        "short_volume",
        "trade_date",
        ("facility",),
        "short_volume",
        excluded=("stored_at",),
    ),
    Kind(
        "short_interest",
        "short_interest",
        "settlement_date",
        (),
        "short_interest",
        excluded=("stored_at",),
    ),
    Kind("quality_daily", "quality_daily", "day", excluded=("computed_at",)),
)

PARTITION_COLUMNS = ("provider", "instrument")
# Every key of the partition path, which hive readers add to each row as a column.
HIVE_KEYS = ("provider", "type", "instrument", "year", "month", "day")


def kinds_named(names: list[str] | None) -> tuple[Kind, ...]:
    """The kinds asked for, in the table's order; all of them for None. Raises ValueError naming
    an unknown kind and the known ones."""
    if not names:
        return KINDS
    known = {kind.name: kind for kind in KINDS}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown kind {', '.join(unknown)}; known: {', '.join(known)}")
    return tuple(kind for kind in KINDS if kind.name in names)
