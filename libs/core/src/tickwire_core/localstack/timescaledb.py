"""Which PostgreSQL the local stack runs: by default the full TimescaleDB build in the cache (its
Timescale License part: compression, continuous aggregates, policies), else the Apache-only one."""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tickwire_core.errors import ConfigError, StackError
from tickwire_core.localstack._process import cache_dir, versions

logger = logging.getLogger(__name__)

# The setting that asks for one build, by the value of `timescaledb.license` it runs with.
LICENSE_VAR = "TICKWIRE_TIMESCALEDB_LICENSE"
TIMESCALE = "timescale"
APACHE = "apache"


@dataclass(frozen=True)
class Build:
    """A PostgreSQL tree with TimescaleDB, and the license its servers are started with."""

    license: str
    # Prefix of the tree's /usr/lib/postgresql/<major>: "/" for the system's own.
    root: Path
    pg_major: str

    @property
    def bin_dir(self) -> Path:
        return self.root / "usr" / "lib" / "postgresql" / self.pg_major / "bin"

    @property
    def lib_dir(self) -> Path:
        return self.root / "usr" / "lib" / "postgresql" / self.pg_major / "lib"

    @property
    def share_dir(self) -> Path:
        return self.root / "usr" / "share" / "postgresql" / self.pg_major

    @property
    def describe(self) -> str:
        kind = "full" if self.license == TIMESCALE else "Apache-only"
        return f"the {kind} TimescaleDB build in {self.bin_dir.parent}"


def requested_license(environ: Mapping[str, str]) -> str | None:
    """The license asked for in the environment, or None to take the full build where installed."""
    value = environ.get(LICENSE_VAR, "").strip()
    if value in ("", TIMESCALE, APACHE):
        return value or None
    raise ConfigError(f"{LICENSE_VAR}={value!r} is neither {TIMESCALE!r} nor {APACHE!r}")


def system_build() -> Build:
    """The Apache build, installed into the system's PostgreSQL by install-timescaledb-apache.sh."""
    return Build(APACHE, Path("/"), versions()["POSTGRES_MAJOR"])


def full_build_root() -> Path:
    """Where install-timescaledb-full.sh puts the full build: a copy of the system's PostgreSQL
    named after both versions (a new PostgreSQL minor version gets a tree of its own)."""
    postgres = system_build().bin_dir / "postgres"
    try:
        out = subprocess.run(
            [str(postgres), "--version"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise StackError(f"cannot run {postgres} --version: {exc}") from exc
    found = re.match(r"postgres \(PostgreSQL\) ([0-9.]+)", out)
    if found is None:
        raise StackError(f"cannot read the version of {postgres} from {out!r}")
    return cache_dir() / f"timescaledb-{versions()['TIMESCALEDB_VERSION']}-postgresql-{found[1]}"


def full_build() -> Build | None:
    """The full build if installed: the same versioned files install-timescaledb-full.sh checks."""
    build = Build(TIMESCALE, full_build_root(), versions()["POSTGRES_MAJOR"])
    ts = versions()["TIMESCALEDB_VERSION"]
    proof = (
        build.bin_dir / "postgres",
        build.lib_dir / f"timescaledb-{ts}.so",
        build.lib_dir / f"timescaledb-tsl-{ts}.so",
        build.share_dir / "extension" / f"timescaledb--{ts}.sql",
    )
    return build if all(path.is_file() for path in proof) else None


def choose(requested: str | None) -> Build:
    """The build for `requested` (see requested_license); call it after the install script ran."""
    if requested == APACHE:
        return system_build()
    full = full_build()
    if full is not None:
        return full
    if requested == TIMESCALE:
        raise StackError(
            f"{LICENSE_VAR}={TIMESCALE} needs the full TimescaleDB build, which is not installed "
            f"in {full_build_root()}: scripts/install-timescaledb-full.sh found no source "
            "(set TICKWIRE_TIMESCALEDB_SOURCE to the upstream tarball of the pinned version)"
        )
    logger.info(
        "the full TimescaleDB build is not installed (no source for it was found): running the "
        "Apache-only build, without compression, continuous aggregates or policies"
    )
    return system_build()
