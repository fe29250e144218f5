"""Child processes of the local stack: spawned so that they die with their parent, tracked by pid
files so that a crashed earlier run can be cleaned up instead of blocking the next one."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tickwire_core.errors import StackError

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
REPO_ROOT = Path(__file__).resolve().parents[5]


def cache_dir() -> Path:
    """Downloads and builds live outside the clone, so a second run or a second clone is fast."""
    root = os.environ.get("TICKWIRE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tickwire"
    )
    return Path(root)


def versions() -> dict[str, str]:
    """The pinned versions from stack/versions.env (KEY=VALUE lines, # comments)."""
    pairs: dict[str, str] = {}
    for line in (REPO_ROOT / "stack" / "versions.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def _die_with_parent(sig: int) -> Callable[[], None]:
    def preexec() -> None:
        # Runs in the child after any uid change (which would clear the setting) and before exec.
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)

    return preexec


def spawn(
    argv: Sequence[str],
    log_path: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
    death_signal: int = signal.SIGTERM,
) -> subprocess.Popen[bytes]:
    """Start a long-running child whose output goes to `log_path` and which receives `death_signal`
    when the spawning thread exits, so a killed supervisor leaves no orphans. Call it from a
    long-lived thread (the main thread)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # Another user also gets that user's group alone, not the caller's (root's) groups.
    group = pwd.getpwnam(user).pw_gid if user else None
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            user=user,
            group=group,
            extra_groups=[] if user else None,
            start_new_session=True,
            preexec_fn=_die_with_parent(death_signal),
        )


def pid_alive(pid: int, marker: str) -> bool:
    """True when `pid` runs and its command line contains `marker` (a reused pid is not ours)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return marker in cmdline


class PidFile:
    """`<name>.pid` holding the pid of a process whose command line contains `marker`."""

    def __init__(self, path: Path, marker: str) -> None:
        self.path = path
        self.marker = marker

    def write(self, pid: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(f"{pid}\n")

    def live_pid(self) -> int | None:
        """The recorded pid if that process still runs; a stale file is removed."""
        try:
            pid = int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None
        if pid_alive(pid, self.marker):
            return pid
        self.path.unlink(missing_ok=True)
        return None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> bool:
        """Stop the recorded process (if any); True if one was running."""
        pid = self.live_pid()
        if pid is None:
            return False
        terminate(pid, self.marker, sig=sig, timeout=timeout)
        self.path.unlink(missing_ok=True)
        return True


def terminate(pid: int, marker: str, *, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
    """Send `sig`, wait up to `timeout` for the process to go, then SIGKILL it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not pid_alive(pid, marker):
            return
        time.sleep(0.1)
    logger.warning("pid=%d ignored signal %d for %.0fs; killing it", pid, sig, timeout)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while pid_alive(pid, marker):
        _reap(pid)
        time.sleep(0.05)


def _reap(pid: int) -> None:
    # A child of ours stays a zombie (and "alive" in /proc) until waited for.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def wait_until(
    ready: Callable[[], bool],
    *,
    what: str,
    log_path: Path,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Poll `ready` until it is true; raise StackError naming `what` and its log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise StackError(
                f"{what} exited with code {process.returncode} during start-up; "
                f"its log is {log_path}:\n{tail(log_path)}"
            )
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.25)
    raise StackError(
        f"{what} did not become ready within {timeout:.0f}s; its log is {log_path}:\n"
        f"{tail(log_path)}"
    )


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log written)"
