"""A feed is stale beyond the allowed age, or when it has no tick at all."""

import pytest

from tickwire_api.domain.freshness import STALE_AFTER_S, is_stale


@pytest.mark.parametrize(
    ("age_s", "after_s", "stale"),
    [(0.0, 60.0, False), (60.0, 60.0, False), (60.001, 60.0, True), (None, 60.0, True)],
)
def test_stale_beyond_the_age_or_without_ticks(
    age_s: float | None, after_s: float, stale: bool
) -> None:
    assert is_stale(age_s, after_s) is stale


def test_the_default_threshold_is_a_minute() -> None:
    assert STALE_AFTER_S == 60.0
    assert not is_stale(59.0) and is_stale(61.0)
