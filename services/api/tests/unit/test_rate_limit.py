"""The token bucket per caller: a burst, then refusals with the wait, refill at the rate, callers
apart from each other, off at rate 0, and bounded memory."""

import pytest

from tickwire_api.domain.rate_limit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_next_request_is_told_how_long_to_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.take("key:a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("key:a") == 1  # one token at 2/s is half a second: rounded up to 1


def test_waiting_the_retry_after_given_is_always_enough() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=0.3, burst=1, clock=clock)
    assert limiter.take("c") == 0
    clock.now += 0.5
    wait = limiter.take("c")
    assert wait == 3  # (1 - 0.15) / 0.3 = 2.83 s, rounded up
    clock.now += wait
    assert limiter.take("c") == 0


def test_refused_requests_take_no_token() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock)
    limiter.take("c")
    assert [limiter.take("c") for _ in range(5)] == [1] * 5
    clock.now += 1.0
    assert limiter.take("c") == 0


def test_the_bucket_refills_at_the_rate_and_never_beyond_the_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10.0, burst=5, clock=clock)
    for _ in range(5):
        limiter.take("c")
    clock.now += 0.2  # two tokens back
    assert [limiter.take("c") for _ in range(3)] == [0, 0, 1]
    clock.now += 3_600.0  # an hour idle fills the bucket to the burst, not to 36,000
    assert [limiter.take("c") for _ in range(6)] == [0, 0, 0, 0, 0, 1]


def test_callers_have_buckets_of_their_own() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock)
    assert limiter.take("key:a") == 0
    assert limiter.take("key:a") == 1
    assert limiter.take("key:b") == 0
    assert limiter.take("addr:192.0.2.7") == 0


def test_a_clock_stepping_back_does_not_drain_or_fill_the_bucket() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, burst=2, clock=clock)
    limiter.take("c")
    clock.now -= 100.0
    assert limiter.take("c") == 0
    assert limiter.take("c") == 1


def test_rate_zero_turns_limiting_off() -> None:
    limiter = RateLimiter(rate=0.0, burst=1, clock=FakeClock())
    assert not limiter.enabled
    assert all(limiter.take("c") == 0 for _ in range(1_000))
    assert limiter.callers() == 0


def test_the_least_recently_seen_caller_is_forgotten_past_the_cap() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock, max_callers=2)
    limiter.take("a")
    limiter.take("b")
    limiter.take("a")  # refused, but seen: b is now the least recent
    limiter.take("c")
    assert limiter.callers() == 2
    assert limiter.take("a") == 1  # remembered: still empty
    assert limiter.take("b") == 0  # forgotten: a full bucket again


@pytest.mark.parametrize(("rate", "burst", "max_callers"), [(-1.0, 1, 1), (1.0, 0, 1), (1.0, 1, 0)])
def test_nonsense_settings_are_refused(rate: float, burst: int, max_callers: int) -> None:
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(rate, burst, FakeClock(), max_callers)
