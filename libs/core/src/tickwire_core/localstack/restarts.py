"""When the local run restarts a service that exited on its own: capped exponential backoff, reset
by a long enough run, and a crash loop (too many exits in a window) left stopped. Pure logic."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from tickwire_core.errors import ConfigError


class ServiceState(StrEnum):
    RUNNING = "running"
    RESTARTING = "restarting"  # exited; started again once its backoff has passed
    CRASH_LOOPING = "crash-looping"  # exited too often: left stopped, the rest runs on


# Each setting: the variable that changes it and its default, with why that default.
# 1 s: a service that died of a passing cause (the broker moving a partition) is back at once.
BACKOFF_S = ("TICKWIRE_RESTART_BACKOFF_S", 1.0)
# 30 s: a service waiting on something slow to come back (the database) is still tried twice a
# minute, yet a broken one does not flood its log; the delay doubles from BACKOFF_S up to this.
BACKOFF_MAX_S = ("TICKWIRE_RESTART_BACKOFF_MAX_S", 30.0)
# 60 s: longer than a service's start-up (seconds; ~15 s on a busy machine), first heartbeat and
# batches, so a service that ran this long got going and its next exit is a new fault.
RESET_AFTER_S = ("TICKWIRE_RESTART_RESET_AFTER_S", 60.0)
# 5 exits in 300 s: one that exits at once does so 5 times within 15 s of backoff (1+2+4+8) and
# five start-ups, ~90 s at worst, so it is declared in minutes; one whose exits are over 75 s apart
# (on average) never has 5 of them in 300 s and is always restarted.
CRASH_LOOP_EXITS = ("TICKWIRE_CRASH_LOOP_EXITS", 5)
CRASH_LOOP_WINDOW_S = ("TICKWIRE_CRASH_LOOP_WINDOW_S", 300.0)


def _number(environ: Mapping[str, str], var: str, default: float) -> float:
    value = environ.get(var) or str(default)
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0:
        raise ConfigError(f"{var}={value!r} is not a positive number")
    return number


@dataclass(frozen=True)
class RestartPolicy:
    backoff_s: float = BACKOFF_S[1]
    backoff_max_s: float = BACKOFF_MAX_S[1]
    reset_after_s: float = RESET_AFTER_S[1]
    crash_loop_exits: int = CRASH_LOOP_EXITS[1]
    crash_loop_window_s: float = CRASH_LOOP_WINDOW_S[1]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RestartPolicy:
        exits = _number(environ, *CRASH_LOOP_EXITS)
        if exits != int(exits):
            raise ConfigError(f"{CRASH_LOOP_EXITS[0]}={exits!r} is not a whole number")
        return cls(
            backoff_s=_number(environ, *BACKOFF_S),
            backoff_max_s=_number(environ, *BACKOFF_MAX_S),
            reset_after_s=_number(environ, *RESET_AFTER_S),
            crash_loop_exits=int(exits),
            crash_loop_window_s=_number(environ, *CRASH_LOOP_WINDOW_S),
        )


@dataclass
class Restarts:
    """One service's exits and restarts, on a monotonic clock in seconds that the caller passes
    in (so tests drive it without waiting)."""

    policy: RestartPolicy
    started_at: float
    state: ServiceState = ServiceState.RUNNING
    restarts: int = 0
    restart_at: float | None = None  # when RESTARTING
    next_delay_s: float = field(init=False)
    exits: deque[float] = field(default_factory=deque, init=False)

    def __post_init__(self) -> None:
        self.next_delay_s = self.policy.backoff_s

    def exited(self, now: float) -> ServiceState:
        """Record an exit we did not ask for; RESTARTING (at `restart_at`) or CRASH_LOOPING."""
        if now - self.started_at >= self.policy.reset_after_s:
            self.next_delay_s = self.policy.backoff_s
        self.exits.append(now)
        while self.exits and self.exits[0] <= now - self.policy.crash_loop_window_s:
            self.exits.popleft()
        if len(self.exits) >= self.policy.crash_loop_exits:
            self.state, self.restart_at = ServiceState.CRASH_LOOPING, None
            return self.state
        self.state, self.restart_at = ServiceState.RESTARTING, now + self.next_delay_s
        self.next_delay_s = min(self.next_delay_s * 2, self.policy.backoff_max_s)
        return self.state

    def due(self, now: float) -> bool:
        """True when the service is to be started again now."""
        return self.restart_at is not None and now >= self.restart_at

    def restarted(self, now: float) -> None:
        self.state, self.restart_at = ServiceState.RUNNING, None
        self.started_at = now
        self.restarts += 1
