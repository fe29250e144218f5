"""What a benchmark reads of a running process from /proc: its CPU seconds, its children (a
server's backends and workers) and its peak resident memory."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process; 0 for no process."""
    if pid is None:
        return 0.0
    # The command name in parentheses may hold spaces: the fields start after its last ')'.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def family(pid: int) -> list[int]:
    """A process and its children (PostgreSQL's backends)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


def family_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of a server and of each of its children, by pid."""
    found = {}
    for member in family(pid):
        with contextlib.suppress(OSError):  # a worker that has just ended
            found[member] = cpu_seconds(member)
    return found


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024
