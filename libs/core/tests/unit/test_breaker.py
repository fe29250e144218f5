from tickwire_core.breaker import CLOSED, HALF_OPEN, OPEN, Breaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_open_half_open_closed_with_a_capped_growing_wait() -> None:
    clock = Clock()
    breaker = Breaker(base_s=0.5, max_s=3.0, clock=clock)
    assert breaker.may_try() and breaker.state == CLOSED
    assert breaker.failed() == 1.0 and breaker.state == OPEN
    assert not breaker.may_try() and breaker.remaining_s() == 1.0
    clock.now += 1.0
    assert breaker.may_try() and breaker.state == HALF_OPEN
    assert breaker.failed() == 2.0  # the trial failed: open again, longer
    clock.now += 2.0
    assert breaker.may_try()
    assert breaker.failed() == 3.0 and breaker.failed() == 3.0  # capped
    assert breaker.opened == 1  # it never closed in between
    clock.now += 3.0
    assert breaker.may_try()
    breaker.succeeded()
    assert (breaker.state, breaker.failures) == (CLOSED, 0)
    assert breaker.failed() == 1.0 and breaker.opened == 2
