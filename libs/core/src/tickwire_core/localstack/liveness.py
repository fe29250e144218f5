"""The local run's liveness probe on each service's /livez, as Kubernetes' probe is: a service
whose own health server says its loop has stopped moving (503: no beat for its live timeout,
60 s by default) is killed, and the supervisor restarts it like any other exit. A service that
does not answer at all (paused with SIGSTOP, busy, still starting) is left alone: only its own
word that its loop is stuck counts."""

from __future__ import annotations

import contextlib
import math
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field

PROBE_EVERY_S = 5.0
STUCK_FOR_S = 10.0  # 503 on every probe for this long: not one slow beat


@dataclass
class LivenessProbe:
    every_s: float = PROBE_EVERY_S
    stuck_for_s: float = STUCK_FOR_S
    _probed: dict[str, float] = field(default_factory=dict)  # name -> last probe
    _stuck_since: dict[str, float] = field(default_factory=dict)  # name -> first 503 in a row

    def stuck(self, name: str, url: str, now: float) -> bool:
        """Probe `url` when due; True once it has answered 503 on every probe for stuck_for_s."""
        if now - self._probed.get(name, -math.inf) < self.every_s:
            return False
        self._probed[name] = now
        if status(url) != 503:
            self._stuck_since.pop(name, None)
            return False
        return now - self._stuck_since.setdefault(name, now) >= self.stuck_for_s

    def kill_if_stuck(
        self, name: str, url: str, process: subprocess.Popen[bytes], now: float
    ) -> bool:
        """Kill `process` (SIGKILL, waited for) once `stuck`; True if it was killed. Whoever
        keeps it running starts it again."""
        if process.poll() is not None or not self.stuck(name, url, now):
            return False
        process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        self.forget(name)
        return True

    def forget(self, name: str) -> None:
        """The service was restarted: its next probe starts a new count."""
        self._probed.pop(name, None)
        self._stuck_since.pop(name, None)


def status(url: str, timeout_s: float = 1.0) -> int | None:
    """The HTTP status `url` answers with, or None when it does not answer in time."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None
