"""What a benchmark reads of a running process from /proc: its CPU seconds, its children (a
server's backends and workers) and its peak resident memory."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process; 0 for no process."""
    if pid is None:
        return 0.0
    return cpu_seconds_of(Path(f"/proc/{pid}/stat"))


def cpu_seconds_of(stat: Path) -> float:
    """User + system CPU time from a process's or a thread's stat file."""
    # The command name in parentheses may hold spaces: the fields start after its last ')'.
    fields = stat.read_text().rsplit(")", 1)[1].split()
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


def thread_cpu(pid: int | None) -> dict[str, float]:
    """CPU seconds of a process's threads, summed by name with digits dropped ("C2 CompilerThread0"
    and "...1" together): where a JVM's time goes, its compilers and collectors beside its work."""
    found: dict[str, float] = {}
    if pid is None:
        return found
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that has just ended
            name = re.sub(r"\d+", "", (task / "comm").read_text().strip()).strip(" -")
            found[name] = found.get(name, 0.0) + cpu_seconds_of(task / "stat")
    return found
