"""How long to wait before reconnecting to a venue: capped exponential backoff with full jitter,
and the venue's own Retry-After answer, which always wins when it asks for longer."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_MAX_DOUBLINGS = 30  # far beyond any sensible cap; keeps 2**n finite


@dataclass
class Backoff:
    """The n-th wait in a row is drawn uniformly from [min_s, min(max_s, min_s * 2**n)]: random
    across the whole window (full jitter), so many clients cut off together do not come back in
    step, yet never sooner than min_s. `reset` after a connection that proved healthy."""

    min_s: float
    max_s: float
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self) -> float:
        self.attempts += 1
        ceiling = self.min_s * 2 ** min(self.attempts, _MAX_DOUBLINGS)
        ceiling = max(self.min_s, min(self.max_s, ceiling))
        return self.rng.uniform(self.min_s, ceiling)

    def reset(self) -> None:
        self.attempts = 0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by an HTTP Retry-After header: delay-seconds or an HTTP-date. A decimal
    number of seconds is accepted too, though the standard only has whole ones."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
