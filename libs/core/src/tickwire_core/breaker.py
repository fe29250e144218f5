"""A circuit breaker for a run loop's downstream (the database, the brokers): closed while batches
succeed; open after a failure, for a capped, growing wait; then half-open, letting one batch try.
Pure: the loop asks it what to do and tells it what happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass
class Breaker:
    base_s: float = 0.2
    max_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    state: str = CLOSED
    failures: int = 0  # consecutive
    opened: int = 0  # times it opened, in all
    _until: float = field(default=0.0, repr=False)

    def failed(self) -> float:
        """A batch failed: open (again) and return how long to stay open."""
        self.failures += 1
        if self.state == CLOSED:
            self.opened += 1
        self.state = OPEN
        wait = min(self.max_s, self.base_s * float(2 ** min(self.failures, 16)))
        self._until = self.clock() + wait
        return wait

    def succeeded(self) -> None:
        self.state, self.failures = CLOSED, 0

    def may_try(self) -> bool:
        """True when a batch may run: closed, or open long enough to try one (half-open)."""
        if self.state == OPEN and self.clock() >= self._until:
            self.state = HALF_OPEN
        return self.state != OPEN

    def remaining_s(self) -> float:
        return max(0.0, self._until - self.clock()) if self.state == OPEN else 0.0
