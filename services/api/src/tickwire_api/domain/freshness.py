"""When a feed counts as stale: its newest tick is older than the allowed age, or it has none
(a feed known only from its gap events is not delivering)."""

from __future__ import annotations

STALE_AFTER_S = 60.0


def is_stale(age_s: float | None, stale_after_s: float = STALE_AFTER_S) -> bool:
    return age_s is None or age_s > stale_after_s
