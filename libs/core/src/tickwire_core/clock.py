"""Time as tickwire carries it: integer UTC microseconds since the epoch."""

from __future__ import annotations

import time


def now_us() -> int:
    return time.time_ns() // 1_000
