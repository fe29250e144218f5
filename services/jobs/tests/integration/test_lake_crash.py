"""An export killed outright (SIGKILL) in the middle of writing a day leaves the day's previous
complete copy in place, readable and equal to what it was; the next run brings the day up to
date and clears what the killed one left."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from tickwire_jobs.domain.lake_kinds import KINDS
from tickwire_testing.cli import Tickwire
from tickwire_testing.lake import database_rows, local_lake_rows

from .conftest import DAY, T0, seed_day, tick_rows

# Two exports as processes and a day of late rows: minutes on a busy two-core machine.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def wait_for_staging(root: Path, timeout: float = 120.0) -> None:
    """Until the export has started writing the day's files (spooled or staged)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any((root / "_days").rglob("*.pending")):
            return
        time.sleep(0.01)
    raise AssertionError("the export never started writing")


def test_a_killed_export_leaves_the_last_good_day(
    cli: Tickwire, lake_db: str, tmp_path: Path
) -> None:
    seed_day(lake_db)
    cli.json_lines("lake", "export", "--day", DAY.isoformat(), "--to", str(tmp_path))
    good = {kind.name: local_lake_rows(str(tmp_path), kind, DAY) for kind in KINDS}
    manifest = tmp_path / "_days" / "2026-03-05" / "_manifest.json"
    good_manifest = manifest.read_bytes()
    # Late rows enough to keep the next export writing for a while: several instruments, so the
    # kill lands between files as well as inside one.
    with psycopg.connect(lake_db, autocommit=True) as conn:
        for name in ("SOL-USD", "ADA-USD", "DOT-USD", "XRP-USD"):
            conn.execute(tick_rows(name, T0, 15_000, step_ms=1000))

    running = cli.start("lake", "export", "--day", DAY.isoformat(), "--to", str(tmp_path))
    wait_for_staging(tmp_path)
    running.kill()

    assert manifest.read_bytes() == good_manifest
    for kind in KINDS:
        assert local_lake_rows(str(tmp_path), kind, DAY) == good[kind.name], kind.name
    assert not list(tmp_path.glob("provider=*/**/*.pending"))

    [line] = cli.json_lines("lake", "export", "--day", DAY.isoformat(), "--to", str(tmp_path))
    assert line["files_written"] == 4
    for kind in KINDS:
        assert local_lake_rows(str(tmp_path), kind, DAY) == database_rows(lake_db, kind, DAY), (
            kind.name
        )
    assert not list(tmp_path.rglob("*.pending"))
    with psycopg.connect(lake_db) as conn:
        statuses = [row[0] for row in conn.execute("SELECT status FROM job_runs ORDER BY id")]
    assert statuses == ["succeeded", "running", "succeeded"]  # a killed run stays 'running'
