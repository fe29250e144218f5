"""`tickwire migrate` against the real database: every migration applied once, nothing the
second time."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from tickwire_sink.adapters.migrations import available

pytestmark = pytest.mark.integration


def test_migrate_applies_every_migration_once(tickwire, database_url) -> None:
    migrate = tickwire.with_env(DATABASE_URL=database_url)
    first = migrate("migrate")
    assert first.returncode == 0, first.stderr
    versions = [version for version, _name, _sql in available()]
    assert first.stdout == "applied: " + " ".join(map(str, versions)) + "\n"
    second = migrate("migrate")
    assert (second.returncode, second.stdout) == (0, "applied: none\n")
    with psycopg.connect(database_url) as conn:
        stored = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert stored == versions


def test_the_sink_given_the_old_migrate_argument_refuses_and_names_the_command() -> None:
    # A job still running `python -m tickwire_sink migrate` must fail, not start a sink.
    done = subprocess.run(
        [sys.executable, "-m", "tickwire_sink", "migrate"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "tickwire migrate" in done.stderr
