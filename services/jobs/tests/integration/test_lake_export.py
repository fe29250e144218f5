"""`tickwire lake export` into a local folder, against the real database: the lake read back with
DuckDB equals the database row for row; a rerun changes nothing; a late row rewrites its file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
import pytest

from tickwire_jobs.adapters.lake_schema import read_file_schema
from tickwire_jobs.domain.lake_kinds import KINDS, Kind
from tickwire_testing.cli import Tickwire
from tickwire_testing.lake import database_rows, local_lake_rows

from .conftest import DAY, T0, seed_day, tick_rows

pytestmark = pytest.mark.integration


def files(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under the lake: relative path -> (mtime_ns, size)."""
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in root.rglob("*")
        if p.is_file()
    }


def test_a_day_reads_back_equal_with_duckdb(cli: Tickwire, lake_db: str, tmp_path: Path) -> None:
    seed_day(lake_db)
    [line] = cli.json_lines("lake", "export", "--day", DAY.isoformat(), "--to", str(tmp_path))

    assert line["day"] == DAY.isoformat()
    assert line["skipped_kinds"] == ""
    for kind in KINDS:
        expected = database_rows(lake_db, kind, DAY)
        assert expected, kind.name  # the seed has every kind
        assert local_lake_rows(str(tmp_path), kind, DAY) == expected, kind.name
    total = sum(len(database_rows(lake_db, kind, DAY)) for kind in KINDS)
    assert line["rows_written"] == total

    manifest = json.loads((tmp_path / "_days" / "2026-03-05" / "_manifest.json").read_text())
    assert manifest["state"] == "complete"
    assert {name: k["rows"] for name, k in manifest["kinds"].items()} == {
        kind.name: len(database_rows(lake_db, kind, DAY)) for kind in KINDS
    }
    btc = next(
        f for f in manifest["files"] if f["kind"] == "ticks" and f["instrument"] == "BTC/USD"
    )
    assert btc["path"] == (
        "provider=coinbase/type=ticks/instrument=BTC%2FUSD/year=2026/month=3/day=5/data.parquet"
    )
    assert btc["min_time"] == "2026-03-05T00:00:00+00:00"  # the tick one second before is not in
    assert not list(tmp_path.rglob("*.pending"))

    with psycopg.connect(lake_db) as conn:
        [(job, status, rows)] = conn.execute("SELECT job, status, rows FROM job_runs").fetchall()
    assert (job, status, rows) == ("lake-export", "succeeded", total)


def test_files_are_sorted_zstd_and_carry_the_schema_docs(
    cli: Tickwire, lake_db: str, tmp_path: Path
) -> None:
    with psycopg.connect(lake_db, autocommit=True) as conn:
        conn.execute(tick_rows("ETH-USD", T0, 3000, step_ms=7))
    cli.json_lines(
        "lake", "export", "--day", DAY.isoformat(), "--kinds", "ticks", "--to", str(tmp_path)
    )
    [path] = tmp_path.glob("provider=coinbase/type=ticks/instrument=ETH-USD/*/*/*/data.parquet")

    parquet = pq.ParquetFile(path)
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
    schema = parquet.schema_arrow
    assert "provider" not in schema.names and "instrument" not in schema.names
    assert schema.field("exchange_ts").metadata[b"doc"].startswith(b"When the venue says")
    assert json.loads(schema.metadata[b"tickwire.column_docs"])["bid_price"] == "Best bid price."
    times = parquet.read(columns=["exchange_ts"]).column(0).to_pylist()
    assert times == sorted(times) and len(times) == 3000


def test_a_time_column_named_day_is_the_path_s_day_only_when_it_is_a_date(lake_db: str) -> None:
    kind = Kind("marks", "daily_marks", "day")
    with psycopg.connect(lake_db, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE daily_marks (provider text, instrument text, day timestamptz, mark real)"
        )
        with pytest.raises(ValueError, match="has day as timestamp with time zone, not a date"):
            read_file_schema(conn, kind)
        conn.execute("ALTER TABLE daily_marks ALTER COLUMN day TYPE date")
        schema = read_file_schema(conn, kind)
    assert schema is not None and [c.name for c in schema.file_columns] == ["mark"]


def test_a_rerun_of_an_unchanged_day_writes_nothing(
    cli: Tickwire, lake_db: str, tmp_path: Path
) -> None:
    seed_day(lake_db)
    cli.json_lines("lake", "export", "--day", DAY.isoformat(), "--to", str(tmp_path))
    before = files(tmp_path)

    [line] = cli.json_lines("lake", "export", "--day", DAY.isoformat(), "--to", str(tmp_path))

    assert (line["rows_written"], line["files_written"], line["files_removed"]) == (0, 0, 0)
    assert files(tmp_path) == before


def test_a_late_row_rewrites_its_file_and_no_other(
    cli: Tickwire, lake_db: str, tmp_path: Path
) -> None:
    seed_day(lake_db)
    cli.json_lines("lake", "export", "--day", DAY.isoformat(), "--to", str(tmp_path))
    before = files(tmp_path)
    with psycopg.connect(lake_db, autocommit=True) as conn:
        conn.execute(tick_rows("ETH-USD", T0 + dt.timedelta(hours=5), 1))

    [line] = cli.json_lines("lake", "export", "--day", DAY.isoformat(), "--to", str(tmp_path))

    # The whole ETH-USD file is written again: 59 ticks of the seed fall on the day, plus one.
    assert (line["files_written"], line["rows_written"]) == (1, 60)
    after = files(tmp_path)
    changed = {path for path in after if after[path] != before.get(path)}
    assert changed == {
        "provider=coinbase/type=ticks/instrument=ETH-USD/year=2026/month=3/day=5/data.parquet",
        "_days/2026-03-05/_manifest.json",
    }
    ticks = next(k for k in KINDS if k.name == "ticks")
    assert local_lake_rows(str(tmp_path), ticks, DAY) == database_rows(lake_db, ticks, DAY)


def test_rows_gone_from_the_database_leave_the_lake(
    cli: Tickwire, lake_db: str, tmp_path: Path
) -> None:
    seed_day(lake_db)
    cli.json_lines("lake", "export", "--day", DAY.isoformat(), "--to", str(tmp_path))
    with psycopg.connect(lake_db, autocommit=True) as conn:
        conn.execute("DELETE FROM anomalies")

    [line] = cli.json_lines("lake", "export", "--day", DAY.isoformat(), "--to", str(tmp_path))

    assert line["files_removed"] == 1
    assert not list(tmp_path.glob("provider=*/type=anomalies"))
    anomalies = next(k for k in KINDS if k.name == "anomalies")
    assert local_lake_rows(str(tmp_path), anomalies, DAY) == []


def test_bad_arguments_are_one_line_errors(cli: Tickwire, tmp_path: Path) -> None:
    line = cli.error_line("lake", "export", "--day", "5 March", "--to", str(tmp_path), code=2)
    assert "--day '5 March' is not a date" in line
    line = cli.error_line(
        "lake", "export", "--day", "2026-03-05", "--kinds", "candles", "--to", str(tmp_path), code=2
    )
    assert "unknown kind candles" in line
