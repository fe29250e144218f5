"""`python -m tickwire_sink migrate`, a deploy's migration job: needs only DATABASE_URL, applies
what is missing, is a no-op the second time, and says why it fails."""

import os
import subprocess
import sys

import psycopg
import pytest

from tickwire_sink.adapters.migrations import available

pytestmark = pytest.mark.integration


def migrate(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"} and not k.startswith("TICKWIRE_")
    }
    return subprocess.run(
        [sys.executable, "-m", "tickwire_sink", "migrate"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_applies_every_migration_once(database_url: str) -> None:
    first = migrate(DATABASE_URL=database_url)
    assert first.returncode == 0, first.stderr
    versions = [version for version, _name, _sql in available()]
    # Logs are JSON lines on stdout; the command's answer is its last line.
    assert first.stdout.splitlines()[-1] == "applied: " + " ".join(map(str, versions))
    second = migrate(DATABASE_URL=database_url)
    assert (second.returncode, second.stdout.splitlines()[-1]) == (0, "applied: none")
    with psycopg.connect(database_url) as conn:
        stored = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert stored == versions


def test_migrate_without_a_database_url_names_it() -> None:
    result = migrate()
    assert result.returncode == 2
    assert "DATABASE_URL is required but not set" in result.stderr


def test_migrate_against_no_database_fails_with_1() -> None:
    result = migrate(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert result.returncode == 1
    assert "migrations failed" in result.stdout  # the JSON log line


def test_an_unknown_command_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tickwire_sink", "migrat"], capture_output=True, text=True
    )
    assert result.returncode == 2 and "usage: python -m tickwire_sink [migrate]" in result.stderr
