"""LocalPostgres against the real thing: PostgreSQL with TimescaleDB built by
scripts/install-timescaledb.sh (a no-op once installed), started in a temporary directory from
either build: the full one in the cache and the system's Apache-only one."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import psycopg
import pytest

from tickwire_core.errors import ConfigError, StackError
from tickwire_core.localstack._process import pid_alive, port_open, versions
from tickwire_core.localstack.postgres import LocalPostgres
from tickwire_core.localstack.timescaledb import (
    APACHE,
    TIMESCALE,
    choose,
    full_build,
    requested_license,
    system_build,
)

pytestmark = pytest.mark.integration


def loaded_timescaledb_modules(pid: int) -> set[Path]:
    """The TimescaleDB shared objects a server process has mapped."""
    maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
    paths = {Path(line.split()[-1]) for line in maps if line.endswith(".so")}
    return {path for path in paths if path.name.startswith("timescaledb")}


@pytest.mark.parametrize("license_", [TIMESCALE, APACHE])
def test_starts_with_timescaledb_and_stops_cleanly(tmp_path: Path, license_: str) -> None:
    # As root the server runs as the postgres account, and tmp_path's parents are private to root
    # (mode 700): start() itself grants that account search permission on them, so a state dir
    # anywhere works, pytest's tmp_path included.
    pg = LocalPostgres(tmp_path / "pg", fast_unsafe=True, timescaledb_license=license_)
    pg.start()
    try:
        assert pg.license == license_
        assert pg.build == (full_build() if license_ == TIMESCALE else system_build())
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
            ).fetchone()
            assert row == (versions()["TIMESCALEDB_VERSION"],)

            conn.execute(
                "CREATE TABLE ticks (ts timestamptz NOT NULL, symbol text NOT NULL, price numeric)"
            )
            conn.execute("SELECT create_hypertable('ticks', by_range('ts'))")
            conn.execute("INSERT INTO ticks VALUES ('2025-01-02 10:15:00+00', 'ABC', 101.5)")
            rows = conn.execute(
                "SELECT time_bucket('1 hour', ts), symbol, price FROM ticks"
            ).fetchall()
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()
            assert backend is not None
            modules = loaded_timescaledb_modules(backend[0])  # while the backend lives
        assert [(b, s, float(p)) for b, s, p in rows] == [
            (dt.datetime(2025, 1, 2, 10, tzinfo=dt.UTC), "ABC", 101.5)
        ]
        pid = int((tmp_path / "pg" / "postgres.pid").read_text())
        # The server and the modules it loaded come from the chosen tree, and only the full
        # build loads the Timescale License module.
        assert Path(f"/proc/{pid}/exe").resolve() == pg.build.bin_dir / "postgres"
        assert modules and {m.parent for m in modules} == {pg.build.lib_dir}
        tsl = pg.build.lib_dir / f"timescaledb-tsl-{versions()['TIMESCALEDB_VERSION']}.so"
        assert (tsl in modules) == (license_ == TIMESCALE)
    finally:
        pg.stop()

    assert not pid_alive(pid, str(tmp_path / "pg" / "data"))
    assert not port_open(pg.port)


def test_the_full_build_finds_its_own_directories() -> None:
    # A copy of Debian's tree under a prefix: PostgreSQL resolves its lib and share directories
    # relative to its binary, so the copy never reads the system's extensions.
    full = full_build()
    assert full is not None
    reported = subprocess.run(
        [str(full.bin_dir / "pg_config"), "--pkglibdir", "--sharedir"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert reported == [str(full.lib_dir), str(full.share_dir)]
    assert full.root != system_build().root


def test_the_license_setting_chooses_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert requested_license({}) is None
    assert requested_license({"TICKWIRE_TIMESCALEDB_LICENSE": "apache"}) == APACHE
    with pytest.raises(ConfigError, match="TICKWIRE_TIMESCALEDB_LICENSE='community'"):
        requested_license({"TICKWIRE_TIMESCALEDB_LICENSE": "community"})
    assert choose(None) == full_build()
    assert choose(APACHE) == system_build()
    # A cache without the full build: the default falls back, an explicit request refuses.
    monkeypatch.setenv("TICKWIRE_CACHE_DIR", str(tmp_path))
    assert choose(None) == system_build()
    with pytest.raises(StackError, match="needs the full TimescaleDB build"):
        choose(TIMESCALE)
