"""A local PostgreSQL server with TimescaleDB for development and tests: installed by
scripts/install-timescaledb.sh, run as a child process that dies with its parent, from the build
timescaledb.choose() picks (the full one by default, the Apache-only one on request).

About 460 lines, kept in one file on purpose: the cluster's life (initdb, its password, start,
readiness, stop, a crashed server's leftovers) is one sequence that reads best in one place."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pwd
import secrets
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import psycopg
from psycopg import sql

from tickwire_core.errors import StackError
from tickwire_core.localstack._process import (
    REPO_ROOT,
    PidFile,
    cache_dir,
    free_port,
    port_open,
    spawn,
    tail,
    versions,
    wait_until,
)
from tickwire_core.localstack.timescaledb import Build, choose

logger = logging.getLogger(__name__)

WHAT = "PostgreSQL/TimescaleDB"
SUPERUSER = "tickwire"
# PostgreSQL refuses to run as root; as root we run it as the account the Debian package creates.
OS_USER_WHEN_ROOT = "postgres"
# sun_path holds 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 107
PASSWORD_FILE = "password"


def _dsn(password: str, port: int, database: str) -> str:
    credentials = f"{SUPERUSER}:{password}" if password else SUPERUSER
    return f"postgresql://{credentials}@127.0.0.1:{port}/{database}"


def stored_dsn(state_dir: Path, port: int, database: str = "tickwire") -> str:
    """The DSN of the server kept in `state_dir`, with the password its first start generated
    (none before that); unlike LocalPostgres.dsn it only reads, so a client may call it."""
    try:
        password = (Path(state_dir) / PASSWORD_FILE).read_text().strip()
    except OSError:
        password = ""
    return _dsn(password, port, database)


class LocalPostgres:
    """One PostgreSQL server with TimescaleDB in `state_dir` (data/, postgres.log, postgres.pid, its
    socket dir)."""

    def __init__(
        self,
        state_dir: Path,
        port: int | None = None,
        database: str = "tickwire",
        *,
        fast_unsafe: bool = False,
        timescaledb_license: str | None = None,
        background_jobs: bool = True,
    ) -> None:
        """`fast_unsafe` trades crash safety for speed (fsync, synchronous_commit and
        full_page_writes off): for throwaway test clusters only. `timescaledb_license` picks the
        build: "timescale" (the full one), "apache", or None for the full one where installed.
        `background_jobs=False` starts no TimescaleDB job scheduler (policies then run only when
        called, `CALL run_job(id)`): tests must not have their rows compressed, pruned or
        refreshed underneath them at moments of the scheduler's choosing."""
        self.state_dir = Path(state_dir).resolve()
        self.port = port if port is not None else free_port()
        self.database = database
        self.fast_unsafe = fast_unsafe
        self.background_jobs = background_jobs
        self.log_path = self.state_dir / "postgres.log"
        self._data_dir = self.state_dir / "data"
        self.password_path = self.state_dir / PASSWORD_FILE
        self._pg_major = versions()["POSTGRES_MAJOR"]
        self._requested_license = timescaledb_license
        self._build: Build | None = None  # chosen by start(), once the install script ran
        self._os_user = OS_USER_WHEN_ROOT if os.geteuid() == 0 else None
        # The trailing space keeps ".../data" from matching a server of ".../data2".
        self._pid_file = PidFile(self.state_dir / "postgres.pid", f"-D {self._data_dir} ")
        self._socket_dir = self._choose_socket_dir()
        self._process: subprocess.Popen[bytes] | None = None
        self._license: str | None = None

    # --- public API ------------------------------------------------------------------------------

    @property
    def running_pid(self) -> int | None:
        """Pid of this state dir's server if one runs (started by us or by an earlier run)."""
        return self._pid_file.live_pid()

    @property
    def dsn(self) -> str:
        return _dsn(self._password(), self.port, self.database)

    @property
    def license(self) -> str:
        """`SHOW timescaledb.license` as seen by start(): "timescale" for the full build
        (compression, continuous aggregates, policies), "apache" for the Apache-only one."""
        if self._license is None:
            raise StackError(f"{WHAT} in {self.state_dir} has not been started")
        return self._license

    @property
    def build(self) -> Build:
        """The PostgreSQL tree start() chose."""
        if self._build is None:
            raise StackError(f"{WHAT} in {self.state_dir} has not been started")
        return self._build

    def start(self, timeout: float = 60.0) -> None:
        began = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self._pid_file.stop(sig=signal.SIGINT, timeout=30.0):
            logger.info("stopped a leftover %s server of %s", WHAT, self.state_dir)
        if port_open(self.port):
            raise StackError(
                f"{WHAT} cannot listen on port {self.port}: another process is using it"
            )
        self._install()
        self._build = choose(self._requested_license)
        logger.info(
            "%s runs %s with timescaledb.license=%s",
            WHAT,
            self._build.describe,
            self._build.license,
        )
        self._prepare_dirs()
        self._initdb_if_needed()
        self._remove_stale_lock()

        logger.info("starting %s on port %d; log %s", WHAT, self.port, self.log_path)
        self._process = spawn(
            self._server_argv(),
            self.log_path,
            cwd=self.state_dir,
            user=self._os_user,
            death_signal=signal.SIGINT,  # PostgreSQL's fast shutdown
        )
        self._pid_file.write(self._process.pid)
        try:
            wait_until(
                self._accepts_connections,
                what=f"{WHAT} on port {self.port}",
                log_path=self.log_path,
                timeout=timeout,
                process=self._process,
            )
            self._set_up_database()
        except BaseException:
            self.stop()
            raise
        logger.info(
            "%s is up on port %d (database %s; SHOW timescaledb.license: %s) after %.1fs",
            WHAT,
            self.port,
            self.database,
            self._license,
            time.monotonic() - began,
        )

    def stop(self, timeout: float = 30.0) -> None:
        if self._pid_file.stop(sig=signal.SIGINT, timeout=timeout):
            logger.info("stopped %s on port %d", WHAT, self.port)
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=1.0)
            self._process = None
        if self.state_dir not in self._socket_dir.parents:
            with contextlib.suppress(OSError):  # the short fallback dir in /tmp, once empty
                self._socket_dir.rmdir()

    # --- start-up steps --------------------------------------------------------------------------

    def _install(self) -> None:
        script = REPO_ROOT / "scripts" / "install-timescaledb.sh"
        install_log = self.state_dir / "install-timescaledb.log"
        env = {**os.environ, "TICKWIRE_CACHE_DIR": str(cache_dir())}
        with open(install_log, "wb") as log:
            result = subprocess.run(
                [str(script)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                check=False,
            )
        if result.returncode != 0:
            raise StackError(
                f"{WHAT}: {script.name} failed with code {result.returncode}; its log is "
                f"{install_log}:\n{tail(install_log)}"
            )

    def _prepare_dirs(self) -> None:
        for directory in (self._data_dir, self._socket_dir):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self._os_user is None:
            return
        account = pwd.getpwnam(self._os_user)
        for directory in (self._data_dir, self._socket_dir):
            if directory.stat().st_uid != account.pw_uid:
                os.chown(directory, account.pw_uid, account.pw_gid)
        # The postgres account must reach data/ through state_dir's ancestors, which are often
        # private to root (/root, pytest's /tmp/pytest-of-root/...: mode 700). Adding only the
        # search bit to exactly those lets it open known paths below them without listing
        # anything; that beats moving data/ out of state_dir, where nothing would delete it.
        # (pytest re-tightens its root dir at each session; the next start() grants again.)
        # initdb runs with the account's own groups, but the server keeps ours (spawn's user=
        # changes only the uid), so it is judged by the group bits of root-group directories.
        group_sets = (
            os.getgrouplist(account.pw_name, account.pw_gid),
            [os.getgid(), *os.getgroups()],
        )
        ancestors = [*self.state_dir.parents, self._socket_dir.parent]
        if self.build.root != Path("/"):  # the full build, in the cache: often under /root
            ancestors += self.build.bin_dir.parents
        for directory in dict.fromkeys((self.state_dir, *ancestors)):
            _grant_search(directory, account, group_sets)

    def _initdb_if_needed(self) -> None:
        version_file = self._data_dir / "PG_VERSION"
        if version_file.exists():
            found = version_file.read_text().strip()
            if found != self._pg_major:
                raise StackError(
                    f"{WHAT}: {self._data_dir} holds a PostgreSQL {found} cluster, but "
                    f"stack/versions.env pins POSTGRES_MAJOR={self._pg_major}; delete the "
                    f"directory to start afresh"
                )
            return
        if any(self._data_dir.iterdir()):
            raise StackError(
                f"{WHAT}: {self._data_dir} is neither empty nor a PostgreSQL data directory"
            )
        logger.info("initdb %s (superuser %s)", self._data_dir, SUPERUSER)
        pwfile = self.state_dir / "initdb.pwfile"
        pwfile.write_text(self._password() + "\n")
        pwfile.chmod(0o600)
        account = pwd.getpwnam(self._os_user) if self._os_user is not None else None
        if account is not None:
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        try:
            with open(self.log_path, "ab") as log:
                result = subprocess.run(
                    [
                        str(self.build.bin_dir / "initdb"),
                        "-D",
                        str(self._data_dir),
                        "-U",
                        SUPERUSER,
                        f"--pwfile={pwfile}",
                        "--auth-local=trust",
                        "--auth-host=scram-sha-256",
                        "--encoding=UTF8",
                        "--locale=C.UTF-8",
                        "--no-instructions",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self.state_dir,
                    check=False,
                    user=account.pw_uid if account else None,
                    group=account.pw_gid if account else None,
                    extra_groups=[] if account else None,
                )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise StackError(
                f"{WHAT}: initdb of {self._data_dir} failed with code {result.returncode}; "
                f"its log is {self.log_path}:\n{tail(self.log_path)}"
            )

    def _remove_stale_lock(self) -> None:
        """PostgreSQL ignores a postmaster.pid whose pid is gone, but refuses to start while
        kill(pid, 0) succeeds: for a crashed postmaster that is still a zombie (an orphan waits
        for a reaper, and containers often have none) and for a pid reused by another process of
        its account (likely with many test clusters). Every process of a server, orphaned
        backends included, has the data dir as its working directory; when none has, the lock
        is stale whatever its pid. Our own earlier server was stopped before this runs."""
        lock = self._data_dir / "postmaster.pid"
        if not lock.exists():
            return
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                with contextlib.suppress(OSError):  # gone, a zombie, or not ours to inspect
                    if Path(os.readlink(proc / "cwd")) == self._data_dir:
                        return  # a live server or its backends: PostgreSQL judges the lock
        logger.info("removing %s: no process runs in %s", lock, self._data_dir)
        lock.unlink(missing_ok=True)

    def _server_argv(self) -> list[str]:
        settings = {
            "listen_addresses": "127.0.0.1",
            **server_settings(
                # Explicit, so the server runs the license its build was chosen for.
                timescaledb_license=self.build.license,
                fast_unsafe=self.fast_unsafe,
                background_jobs=self.background_jobs,
            ),
        }
        argv = [
            str(self.build.bin_dir / "postgres"),
            "-D",
            str(self._data_dir),
            "-p",
            str(self.port),
            "-k",
            str(self._socket_dir),
        ]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        return argv

    def _accepts_connections(self) -> bool:
        with self._admin_connection("postgres"):
            return True

    def _set_up_database(self) -> None:
        try:
            with self._admin_connection("postgres") as conn:
                # initdb set it, but the file may have been deleted and regenerated since:
                # asserting it each time (a few ms) keeps the DSN valid whatever happened.
                conn.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        sql.Identifier(SUPERUSER), sql.Literal(self._password())
                    )
                )
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
                ).fetchone()
                if exists is None:
                    logger.info("creating database %s", self.database)
                    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database))
                    conn.execute(create)
            with self._admin_connection(self.database) as conn:
                # The Apache build then logs "job 3 threw an error ... apache license" now and
                # every 6 hours: a built-in job it cannot run (timescale/timescaledb#10191). The
                # full build logs one at the end of every job (docs/storage.md says why).
                conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            # Services and tests connect over TCP with the password, so check exactly that.
            with psycopg.connect(self.dsn, connect_timeout=5, autocommit=True) as conn:
                row = conn.execute("SHOW timescaledb.license").fetchone()
        except psycopg.Error as exc:
            raise StackError(
                f"{WHAT} on port {self.port} could not set up database {self.database}: {exc}; "
                f"its log is {self.log_path}"
            ) from exc
        if row is None or row[0] != self.build.license:
            raise StackError(
                f"{WHAT} reports timescaledb.license {row and row[0]!r}, not the "
                f"{self.build.license!r} it was started with; its log is {self.log_path}"
            )
        self._license = str(row[0])

    # --- helpers ---------------------------------------------------------------------------------

    def _admin_connection(self, database: str) -> psycopg.Connection:
        # The unix socket with trust auth works even when the password file went missing.
        return psycopg.connect(
            host=str(self._socket_dir),
            port=self.port,
            user=SUPERUSER,
            dbname=database,
            connect_timeout=5,
            autocommit=True,
        )

    def _password(self) -> str:
        """The superuser's password: random, generated once and kept in state_dir."""
        try:
            return self.password_path.read_text().strip()
        except FileNotFoundError:
            pass
        self.state_dir.mkdir(parents=True, exist_ok=True)
        password = secrets.token_hex(16)  # hex: no quoting needed in a DSN
        fd = os.open(self.password_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(password + "\n")
        return password

    def _choose_socket_dir(self) -> Path:
        """state_dir/run, or a short per-state_dir path in the temp dir when that would make the
        socket's path too long for sun_path."""
        preferred = self.state_dir / "run"
        if len(f"{preferred}/.s.PGSQL.65535") <= _MAX_SOCKET_PATH:
            return preferred
        digest = hashlib.sha256(str(self.state_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"tickwire-pg-{digest}"


def server_settings(
    *, timescaledb_license: str | None, fast_unsafe: bool, background_jobs: bool
) -> dict[str, str]:
    """The server settings tickwire's PostgreSQL runs with, wherever it runs (a local process or a
    container); LocalPostgres's arguments say what `fast_unsafe` and `background_jobs` mean. A
    None license leaves the build's own default."""
    settings = {
        "shared_preload_libraries": "timescaledb",
        # Our build has telemetry compiled out; this also silences a packaged build.
        "timescaledb.telemetry_level": "off",
        "max_connections": "200",
        # TimescaleDB locks every chunk a statement touches; 64 runs out with many chunks.
        "max_locks_per_transaction": "256",
        "timezone": "UTC",
    }
    if timescaledb_license is not None:
        settings["timescaledb.license"] = timescaledb_license
    if fast_unsafe:
        settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
    if not background_jobs:
        settings["timescaledb.max_background_workers"] = "0"  # the launcher exits at once
    return settings


def _grant_search(
    directory: Path, account: pwd.struct_passwd, group_sets: Iterable[Sequence[int]]
) -> None:
    """Add the execute bit through which `account`, with each of `group_sets` as its group ids,
    may search `directory` (the owner's, the group's or the others'), where missing."""
    info = directory.stat()
    old_mode = mode = stat.S_IMODE(info.st_mode)
    for gids in group_sets:
        if info.st_uid == account.pw_uid:
            mode |= stat.S_IXUSR
        elif info.st_gid in gids:
            mode |= stat.S_IXGRP
        else:
            mode |= stat.S_IXOTH
    if mode != old_mode:
        logger.info(
            "granting %s search permission on %s (mode %o -> %o)",
            account.pw_name,
            directory,
            old_mode,
            mode,
        )
        os.chmod(directory, mode)
