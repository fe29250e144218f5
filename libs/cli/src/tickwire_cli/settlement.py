"""After a backfill: wait until the pipeline has dealt with every record it published and count
what became of each, from normalize's own mapping, the target tables and the dead letters."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import psycopg

from tickwire_core.errors import RejectedRecord
from tickwire_ingest.adapters.history.store import to_time
from tickwire_ingest.domain.history.pages import VendorRow
from tickwire_ingest.domain.history.plan import Step
from tickwire_ingest.domain.history.tally import Expected, Key, Ledger, Position, Tally

logger = logging.getLogger("tickwire.cli.backfill")

Mapper = Callable[[VendorRow, int], list[tuple[str, dict[str, Any]]]]
_BATCH = 5000
_EPOCH_DAY = date(1970, 1, 1)

# Per kind: the table and how a key's columns match a row of it (k.c1, k.c2, ... in key order).
_LOOKUPS = {
    "bar": (
        "SELECT k.i FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[], %s::text[],"
        " %s::timestamptz[]) AS k(i, c1, c2, c3, c4, c5) WHERE EXISTS (SELECT 1 FROM bars t"
        " WHERE t.provider = k.c1 AND t.instrument = k.c2 AND t.interval = k.c3"
        " AND t.source = k.c4 AND t.start_ts = k.c5)"
    ),
    "tick": (
        "SELECT k.i FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[], %s::text[],"
        " %s::timestamptz[]) AS k(i, c1, c2, c3, c4, c5) WHERE EXISTS (SELECT 1 FROM ticks t"
        " WHERE t.provider = k.c1 AND t.venue_instrument = k.c2 AND t.kind = k.c3"
        " AND t.trade_id = k.c4 AND t.exchange_ts = k.c5)"
    ),
    "short_volume": (
        "SELECT k.i FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[], %s::date[])"
        " AS k(i, c1, c2, c3, c4) WHERE EXISTS (SELECT 1 FROM short_volume t"
        " WHERE t.provider = k.c1 AND t.instrument = k.c2 AND t.facility = k.c3"
        " AND t.trade_date = k.c4)"
    ),
    "short_interest": (
        "SELECT k.i FROM unnest(%s::int[], %s::text[], %s::text[], %s::date[])"
        " AS k(i, c1, c2, c3) WHERE EXISTS (SELECT 1 FROM short_interest t"
        " WHERE t.provider = k.c1 AND t.instrument = k.c2 AND t.settlement_date = k.c3)"
    ),
}


def target_key(kind: str, provider: str, record: dict[str, Any]) -> Key:
    """The natural key of the row a mapped record becomes (KeyError: the record lacks it)."""
    if kind == "bar":
        return ("bar", record["provider"], record["instrument"], record["interval"],
                record["source"], record["start_ts"])  # fmt: skip
    if kind == "tick":
        # Mapped ticks carry the venue's name; normalize adds the unified one.
        return ("tick", provider, record["venue_instrument"], record.get("kind", "trade"),
                str(record["trade_id"]), record["exchange_ts"])  # fmt: skip
    if kind == "short_volume":
        return ("short_volume", record["provider"], record["instrument"], record["facility"],
                record["trade_date"])  # fmt: skip
    if kind == "short_interest":
        return ("short_interest", record["provider"], record["instrument"],
                record["settlement_date"])  # fmt: skip
    raise KeyError(kind)


def _time_column(value: Any, kind: str) -> Any:
    """A key's last column, its time, as the table has it: µs or Avro days."""
    if kind in ("bar", "tick"):
        return to_time(int(value))
    return _EPOCH_DAY + timedelta(days=int(value))


def normalize_mapper() -> Mapper | None:
    """Normalize's history mappings as a Mapper, or None where normalize is not installed."""
    try:
        from tickwire_normalize.domain.history.path import history_records
    except ImportError:
        return None

    def mapped(row: VendorRow, received_ts: int) -> list[tuple[str, dict[str, Any]]]:
        raw = {
            "provider": row.provider,
            "feed": row.feed,
            "instrument": row.instrument,
            "received_ts": received_ts,
            "content_type": row.content_type,
            "payload": row.payload,
        }
        return [(m.kind, m.record) for m in history_records(raw)]

    return mapped


class Settlement:
    """The Watch of a backfill (tickwire_ingest.backfill): records what each step published,
    then `wait` polls the tables and the dead letters until every record is accounted for."""

    def __init__(self, conn: psycopg.Connection[Any], mapper: Mapper) -> None:
        self.conn = conn
        self.mapper = mapper
        self.ledgers: dict[Step, Ledger] = {}
        self._page: list[Expected] = []

    def _expect(self, row: VendorRow, received_ts: int) -> tuple[tuple[Key, ...], str | None]:
        try:
            mapped = self.mapper(row, received_ts)
            return tuple(target_key(kind, row.provider, r) for kind, r in mapped), None
        except RejectedRecord as exc:
            return (), exc.reason
        except (KeyError, TypeError, ValueError) as exc:
            return (), f"unmappable: {exc}"

    def before_page(self, step: Step, rows: Sequence[VendorRow], received_ts: int) -> None:
        ledger = self.ledgers.setdefault(step, Ledger())
        expected = [self._expect(row, received_ts) for row in rows]
        self._page = [Expected(("", -1, -1), keys, refused) for keys, refused in expected]
        fresh = ledger.new_keys(k for keys, _ in expected for k in keys)
        ledger.existed(self.present(fresh))

    def after_page(self, step: Step, rows: Sequence[VendorRow], positions: list[Position]) -> None:
        page, self._page = self._page, []
        self.ledgers[step].published(
            Expected(position, e.keys, e.refused)
            for position, e in zip(positions, page, strict=True)
        )

    def present(self, keys: Iterable[Key]) -> set[Key]:
        by_kind: dict[str, list[Key]] = {}
        for key in keys:
            by_kind.setdefault(str(key[0]), []).append(key)
        found: set[Key] = set()
        for kind, group in by_kind.items():
            for start in range(0, len(group), _BATCH):
                batch = group[start : start + _BATCH]
                width = len(batch[0])
                columns: list[list[Any]] = [list(range(len(batch)))]
                columns += [[key[c] for key in batch] for c in range(1, width - 1)]
                columns.append([_time_column(key[-1], kind) for key in batch])
                rows = self.conn.execute(_LOOKUPS[kind], columns).fetchall()
                found.update(batch[i] for (i,) in rows)
        return found

    def rejects(self, positions: Sequence[Position]) -> dict[Position, list[str]]:
        found: dict[Position, list[str]] = {}
        for start in range(0, len(positions), _BATCH):
            batch = positions[start : start + _BATCH]
            rows = self.conn.execute(
                "SELECT r.source_topic, r.source_partition, r.source_offset, r.reason"
                " FROM rejects r JOIN unnest(%s::text[], %s::int[], %s::bigint[]) AS k(t, p, o)"
                " ON (r.source_topic, r.source_partition, r.source_offset) = (k.t, k.p, k.o)",
                ([p[0] for p in batch], [p[1] for p in batch], [p[2] for p in batch]),
            ).fetchall()
            for topic, partition, offset, reason in rows:
                found.setdefault((topic, partition, offset), []).append(reason)
        return found

    def tallies(self, fetched: dict[Step, int]) -> dict[Step, Tally]:
        result = {}
        for step, ledger in self.ledgers.items():
            now = self.present(ledger.awaited())
            result[step] = ledger.tally(now, self.rejects(ledger.positions()), fetched.get(step, 0))
        return result

    def wait(
        self, fetched: dict[Step, int], timeout_s: float, poll_s: float = 1.0
    ) -> dict[Step, Tally]:
        """The tallies once nothing is pending, or as they are when `timeout_s` has passed."""
        deadline = time.monotonic() + timeout_s
        while True:
            tallies = self.tallies(fetched)
            pending = sum(t.pending for t in tallies.values())
            if not pending or time.monotonic() >= deadline:
                return tallies
            logger.info("waiting for the pipeline: %d records pending", pending)
            time.sleep(poll_s)
