"""Bars, anomalies, signals and rejects in a real TimescaleDB: the migration, idempotent writes,
poison rows set aside with the database's error, and connection errors left to the caller."""

import math
import threading
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.migrations import available, migrate
from tickwire_sink.adapters.table_writer import TableWriter
from tickwire_sink.adapters.ticks import TickWriter
from tickwire_sink.domain.records import ANOMALIES, BARS, REJECTS, SIGNALS, TableSpec
from tickwire_testing.ticks import incompressible_name, quote

pytestmark = pytest.mark.integration

T0 = 1_700_000_000_000_000
MINUTE = 60_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bar(i: int, **changes: Any) -> dict[str, Any]:
    price = 100.0 + i
    return {
        "provider": "simulator",
        "instrument": "SIM-A",
        "interval": "1m",
        "start_ts": T0 + i * MINUTE,
        "open": price,
        "high": price + 1.5,
        "low": price - 0.5,
        "close": price + 1.0,
        "volume": 10.0 + i,
        "tick_count": 1 + i,
        "source": "trade",
        **changes,
    }


def anomaly(i: int, **changes: Any) -> dict[str, Any]:
    return {
        "provider": "simulator",
        "instrument": "SIM-B",
        "ts": T0 + i,
        "rule": "zscore",
        "severity": "critical" if i % 2 else "warning",
        "value": 4.5 + i,
        "threshold": 4.0,
        "window_mean": None if i % 3 == 0 else 100.0,
        "window_stddev": None if i % 3 == 0 else 0.25,
        "window_count": None if i % 3 == 0 else 200,
        "detail": f"price {i} off the window mean",
        **changes,
    }


def signal(i: int, interval: str = "1m", **changes: Any) -> dict[str, Any]:
    return {
        "provider": "simulator",
        "instrument": "SIM-C",
        "ts": T0 + i * MINUTE,
        "name": "sma_20",
        "value": 100.0 + i / 4,
        "parameters": {"interval": interval, "window": "20"},
        **changes,
    }


def dead_letter(i: int, **changes: Any) -> dict[str, Any]:
    return {
        "reason": "undecodable",
        "message": f"record {i} has no Avro header",
        "service": "normalize",
        "source_topic": "raw_ticks",
        "source_partition": i % 4,
        "source_offset": 1_000 + i,
        "source_key": None if i % 2 else f"SIM-{i}".encode(),
        "payload": bytes([i % 256, 0, 255]),
        "rejected_ts": T0 + i,
        # What the letter was about: known for some, unknown (an unreadable payload) for others.
        "provider": None if i % 3 == 0 else "simulator",
        "instrument": None if i % 3 == 0 else f"SIM-{i}",
        "event_ts": None if i % 3 == 0 else T0 - i,
        **changes,
    }


MAKERS = {"bars": bar, "anomalies": anomaly, "signals": signal, "rejects": dead_letter}
SPECS = [BARS, ANOMALIES, SIGNALS, REJECTS]


def stored(conn: psycopg.Connection, spec: TableSpec) -> list[tuple[Any, ...]]:
    """The table's rows, oldest first: by their one time column (rejects: when rejected, since
    the time a letter is about can be unknown)."""
    names = ", ".join(f'"{name}"' for name in spec.names)
    (time_column,) = {"rejected_ts"} if spec is REJECTS else spec.time_columns
    return conn.execute(f"SELECT {names} FROM {spec.table} ORDER BY {time_column}").fetchall()


def as_stored(spec: TableSpec, record: dict[str, Any]) -> tuple[Any, ...]:
    """The row as the database gives it back: times as timestamptz."""
    return tuple(
        EPOCH + timedelta(microseconds=value)
        if name in spec.time_columns and value is not None
        else value
        for name, value in zip(spec.names, spec.to_row(record), strict=True)
    )


def test_migrations_apply_twice_and_concurrently(database_url: str) -> None:
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with psycopg.connect(database_url) as conn:
                results.append(migrate(conn))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(v for r in results for v in r) == [v for v, _, _ in available()]
    with psycopg.connect(database_url) as conn:
        assert migrate(conn) == []
        # The file itself is idempotent too: applied again by hand, it changes nothing.
        sql = resources.files("tickwire_sink.migrations").joinpath(
            "0003_bars_anomalies_signals_rejects.sql"
        )
        conn.execute(sql.read_text())
        conn.commit()
        chunks: dict[str, timedelta] = dict(
            conn.execute(
                "SELECT hypertable_name, time_interval FROM timescaledb_information.dimensions"
            ).fetchall()
        )
    assert chunks["bars"] == chunks["anomalies"] == timedelta(days=7)
    assert chunks["signals"] == timedelta(days=1)
    assert "rejects" not in chunks


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.table)
def test_the_table_has_the_specs_columns_with_times_as_timestamptz(
    conn: psycopg.Connection, spec: TableSpec
) -> None:
    types: dict[str, str] = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s",
            (spec.table,),
        ).fetchall()
    )
    extra = {"stored_at"} if spec is REJECTS else set()
    assert set(types) == set(spec.names) | extra
    for column in spec.time_columns | extra:
        assert types[column] == "timestamp with time zone"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.table)
def test_rows_round_trip_and_a_redelivered_batch_leaves_one_row_each(
    conn: psycopg.Connection, spec: TableSpec
) -> None:
    records = [MAKERS[spec.table](i) for i in range(7)]
    writer = TableWriter.for_table(conn, spec)
    rows = [spec.to_row(r) for r in records]
    assert writer.write(rows) == 7
    assert writer.write(rows) == 0
    assert writer.write_isolating(rows).inserted == 0
    assert stored(conn, spec) == [as_stored(spec, r) for r in records]


def test_a_signal_is_kept_per_interval(conn: psycopg.Connection) -> None:
    writer = TableWriter.for_table(conn, SIGNALS)
    batch = [signal(0, "1m"), signal(0, "5m"), signal(0, "1m", value=-1.0)]
    assert writer.write([SIGNALS.to_row(s) for s in batch]) == 2
    assert conn.execute('SELECT "interval", value FROM signals ORDER BY 1').fetchall() == [
        ("1m", 100.0),
        ("5m", 100.0),
    ]


def test_a_corrected_bar_replaces_the_stored_one_and_no_older_revision_undoes_it(
    conn: psycopg.Connection,
) -> None:
    writer = TableWriter.for_table(conn, BARS)
    first, other = bar(0), bar(1)
    corrected = bar(0, high=120.0, close=119.0, volume=30.0, tick_count=5, revision=1)
    assert writer.write([BARS.to_row(first), BARS.to_row(other)]) == 2
    assert writer.write([BARS.to_row(corrected)]) == 1
    # Redelivered, in either order or in one batch, the revisions leave the correction stored.
    assert writer.write([BARS.to_row(first)]) == 0
    assert writer.write([BARS.to_row(corrected), BARS.to_row(first)]) == 0
    assert stored(conn, BARS) == [as_stored(BARS, corrected), as_stored(BARS, other)]


def test_a_bar_and_its_correction_in_one_batch_store_the_correction(
    conn: psycopg.Connection,
) -> None:
    writer = TableWriter.for_table(conn, BARS)
    corrected = bar(0, close=101.5, revision=1)
    assert writer.write([BARS.to_row(bar(0)), BARS.to_row(corrected)]) == 1
    assert stored(conn, BARS) == [as_stored(BARS, corrected)]


def test_a_confirmed_critical_turns_its_row_confirmed_and_never_back(
    conn: psycopg.Connection,
) -> None:
    writer = TableWriter.for_table(conn, ANOMALIES)
    critical, warning = anomaly(1), anomaly(2)
    confirmed = {**critical, "severity": "confirmed", "detail": "confirmed as a move"}
    assert writer.write([ANOMALIES.to_row(critical), ANOMALIES.to_row(warning)]) == 2
    assert writer.write([ANOMALIES.to_row(confirmed)]) == 1
    assert writer.write([ANOMALIES.to_row(critical), ANOMALIES.to_row(confirmed)]) == 0
    # A confirmation replaces a critical only, never a warning.
    assert writer.write([ANOMALIES.to_row({**warning, "severity": "confirmed"})]) == 0
    assert stored(conn, ANOMALIES) == [
        as_stored(ANOMALIES, confirmed),
        as_stored(ANOMALIES, warning),
    ]
    # Original and correction in one batch: the correction is what is stored.
    other = anomaly(3)
    batch = [other, {**other, "severity": "confirmed", "detail": "confirmed"}]
    assert writer.write([ANOMALIES.to_row(a) for a in batch]) == 1
    assert stored(conn, ANOMALIES)[-1] == as_stored(ANOMALIES, batch[1])


def test_a_redelivered_dead_letter_is_stored_once(conn: psycopg.Connection) -> None:
    writer = TableWriter.for_table(conn, REJECTS)
    first = dead_letter(1)
    again = {**first, "rejected_ts": first["rejected_ts"] + MINUTE}  # rejected again on replay
    other_reason = {**first, "reason": "crossed_market"}
    assert writer.write([REJECTS.to_row(first)]) == 1
    assert writer.write([REJECTS.to_row(again), REJECTS.to_row(other_reason)]) == 1
    assert conn.execute("SELECT count(*), count(stored_at) FROM rejects").fetchone() == (2, 2)


def test_poison_rows_are_set_aside_with_the_database_error(conn: psycopg.Connection) -> None:
    writer = TableWriter.for_table(conn, BARS)
    records = [bar(i) for i in range(40)]
    poison = {
        3: ("23514", bar(3, high=90.0)),  # high below low: bars_ohlc_ordered
        17: ("23514", bar(17, volume=math.nan)),  # NaN passes ">= 0" alone
        18: ("22021", bar(18, instrument="SIM\x00A")),  # text cannot hold NUL
        19: ("23514", bar(19, open=math.nan, high=math.nan, low=math.nan, close=math.nan)),
        31: ("22003", bar(31, tick_count=2**31)),  # beyond integer
        39: ("22008", bar(39, start_ts=-(2**62))),  # long before timestamptz's 4713 BC
    }
    for i, (_, record) in poison.items():
        records[i] = record
    already = [i for i in range(10) if i not in poison]
    writer.write([BARS.to_row(records[i]) for i in already])  # a redelivery, partly stored

    result = writer.write_isolating([BARS.to_row(r) for r in records])

    assert [(p.index, p.sqlstate) for p in result.poisoned] == [
        (i, state) for i, (state, _) in sorted(poison.items())
    ]
    assert "bars_ohlc_ordered" in result.poisoned[0].message
    assert "bars_volume_valid" in result.poisoned[1].message
    assert result.inserted == 40 - len(poison) - len(already)
    assert stored(conn, BARS) == [
        as_stored(BARS, r) for i, r in enumerate(records) if i not in poison
    ]
    assert result.attempts <= 1 + 2 * len(poison) * math.ceil(math.log2(40))


@pytest.mark.parametrize(
    ("spec", "poison", "sqlstate"),
    [
        (SIGNALS, signal(5, parameters={"interval": "1m", "note": "a\x00b"}), "22P05"),
        (SIGNALS, signal(5, parameters={"interval": "1m", "ratio": math.nan}), "22P02"),
        (REJECTS, dead_letter(5, message="bad\x00byte"), "22021"),
        (ANOMALIES, anomaly(5, window_count=2**40), "22003"),
    ],
    ids=["signal-nul-in-json", "signal-nan-in-json", "reject-nul", "anomaly-count-overflow"],
)
def test_each_table_sets_its_poison_aside(
    conn: psycopg.Connection, spec: TableSpec, poison: dict[str, Any], sqlstate: str
) -> None:
    records = [MAKERS[spec.table](i) for i in range(9)]
    records[5] = poison
    result = TableWriter.for_table(conn, spec).write_isolating([spec.to_row(r) for r in records])
    assert [(p.index, p.sqlstate) for p in result.poisoned] == [(5, sqlstate)]
    assert result.inserted == 8
    assert len(stored(conn, spec)) == 8


def test_one_poison_row_costs_two_writes_per_halving(conn: psycopg.Connection) -> None:
    writer = TableWriter.for_table(conn, BARS)
    records = [bar(i) for i in range(64)]
    assert writer.write_isolating([BARS.to_row(r) for r in records[:32]]).attempts == 1
    records[45] = bar(45, tick_count=0)
    result = writer.write_isolating([BARS.to_row(r) for r in records])
    assert (result.inserted, result.attempts) == (31, 1 + 2 * 6)
    assert [p.index for p in result.poisoned] == [45]


@pytest.fixture
def probe(conn: psycopg.Connection) -> TableWriter:
    """A table whose CHECK refuses negative values and whose trigger kills the session on 13."""
    conn.execute("CREATE TABLE probe (k bigint PRIMARY KEY, v double precision CHECK (v >= 0))")
    conn.execute(
        "CREATE FUNCTION probe_kill() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " IF NEW.v = 13 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;"
        " RETURN NEW; END $$"
    )
    conn.execute(
        "CREATE TRIGGER probe_kill BEFORE INSERT ON probe"
        " FOR EACH ROW EXECUTE FUNCTION probe_kill()"
    )
    conn.commit()
    return TableWriter(conn, "probe", [("k", "int8"), ("v", "float8")])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.integers(1, 48).flatmap(lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1)))))
def test_bisection_finds_exactly_the_poison_rows(
    probe: TableWriter, case: tuple[int, set[int]]
) -> None:
    n, poison = case
    (base,) = probe.conn.execute("SELECT coalesce(max(k), 0) + 1 FROM probe").fetchone() or (1,)
    probe.conn.commit()
    rows = [(base + i, -1.0 if i in poison else 1.0) for i in range(n)]
    result = probe.write_isolating(rows)
    assert [p.index for p in result.poisoned] == sorted(poison)
    assert {p.sqlstate for p in result.poisoned} <= {"23514"}
    assert result.inserted == n - len(poison)
    assert result.attempts <= 1 + 2 * len(poison) * max(1, math.ceil(math.log2(n)))


def test_a_connection_error_propagates_even_mid_bisection(probe: TableWriter) -> None:
    rows = [(i, -1.0 if i == 2 else 13.0 if i == 6 else 1.0) for i in range(8)]
    with pytest.raises(psycopg.OperationalError):
        probe.write_isolating(rows)  # the poison at 2 starts a bisection that meets 13 at 6
    assert probe.conn.closed


def test_a_broken_connection_propagates(database_url: str, conn: psycopg.Connection) -> None:
    writer = TableWriter.for_table(conn, BARS)
    (pid,) = conn.execute("SELECT pg_backend_pid()").fetchone() or (0,)
    conn.commit()
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(psycopg.OperationalError):
        writer.write_isolating([BARS.to_row(bar(0)), BARS.to_row(bar(1, tick_count=0))])


def test_ticks_set_their_poison_aside_too(conn: psycopg.Connection) -> None:
    writer = TickWriter(conn, AvroSerde().schema("tick"))
    ticks = [
        {
            "provider": "simulator",
            "instrument": "SIM-A",
            "kind": "quote",
            "exchange_ts": T0 + i,
            "received_ts": T0 + i + 5,
            "bid_price": 100.0,
            "venue_seq": i,
        }
        for i in range(6)
    ]
    ticks[4]["kind"] = None
    result = writer.write_isolating(ticks)
    assert [(p.index, p.sqlstate) for p in result.poisoned] == [(4, "23502")]
    assert conn.execute("SELECT count(*) FROM ticks").fetchone() == (5,)


def test_a_name_too_long_to_index_is_set_aside_not_retried(conn: psycopg.Connection) -> None:
    # PostgreSQL refuses the row with 54000 (program_limit_exceeded), which psycopg raises as an
    # OperationalError like a lost connection: the batch must still be split down to that row.
    writer = TickWriter(conn, AvroSerde().schema("tick"))
    ticks = [quote("SIM-A", T0 + i, 100.0, 100.5) for i in range(64)]
    ticks[45] = quote(incompressible_name(10_000, 54), T0 + 45, 100.0, 100.5)
    result = writer.write_isolating(ticks)
    assert [(p.index, p.sqlstate) for p in result.poisoned] == [(45, "54000")]
    assert "index row" in result.poisoned[0].message
    assert (result.inserted, result.attempts) == (63, 1 + 2 * 6)  # halved six times, never retried
    assert conn.execute("SELECT count(*), max(length(instrument)) FROM ticks").fetchone() == (63, 5)
