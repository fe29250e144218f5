"""Request rate limiting: one token bucket per caller (an API key, or a client address), so one
caller's burst cannot take the database from the others; a refusal says how long to wait."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

_SLACK = 1e-9


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`rate` tokens a second refill each caller's bucket up to `burst`; a request takes one.

    `take(caller)` answers 0 when the request may go ahead, else the whole seconds after which
    one token will be there (the Retry-After a client is sent). Rate 0 turns limiting off.

    At most `max_callers` buckets are kept: past that, the least recently seen is forgotten,
    which hands that caller a full bucket again but keeps memory bounded when addresses are
    many. Not thread-safe: the API calls it from its event loop only."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float], max_callers: int = 10_000
    ) -> None:
        if rate < 0 or burst < 1 or max_callers < 1:
            raise ValueError("rate must be >= 0, burst and max_callers >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._max_callers = max_callers
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, caller: str) -> int:
        if not self.enabled:
            return 0
        now = self._clock()
        bucket = self._buckets.get(caller)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now)
            self._buckets[caller] = bucket
            if len(self._buckets) > self._max_callers:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(caller)
            # max(): a clock that steps back must not drain the bucket.
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
            bucket.updated = now
        # The slack absorbs float rounding, so that waiting the Retry-After given is enough.
        if bucket.tokens >= 1.0 - _SLACK:
            bucket.tokens = max(0.0, bucket.tokens - 1.0)
            return 0
        # Whole seconds (HTTP's Retry-After has no fractions), rounded up so that waiting them
        # is always enough.
        return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def callers(self) -> int:
        return len(self._buckets)
