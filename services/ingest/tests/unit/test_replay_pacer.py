import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickwire_ingest.domain.replay import Pacer

T0 = 1_700_000_000_000_000
START = 42_000_000  # a monotonic clock's reading when the replay begins

# Recorded receipt times: irregular gaps, a burst within one microsecond, and a quiet stretch.
RECORDED = [T0, T0 + 1_000, T0 + 1_000, T0 + 250_000, T0 + 250_010, T0 + 3_000_000]


def replay(pacer: Pacer, recorded: list[int], slowness: list[int] | None = None) -> list[int]:
    """Clock readings at which each record is sent, with a fake clock that advances by exactly
    the waits asked for (plus, per record, the time sending it took)."""
    clock, sent = START, []
    for i, received_ts in enumerate(recorded):
        wait = pacer.wait_us(received_ts, clock)
        assert wait >= 0
        clock += wait
        sent.append(clock)
        clock += slowness[i] if slowness else 0
    return sent


def test_speed_1_sends_at_the_recorded_pace() -> None:
    assert replay(Pacer(1), RECORDED) == [START + ts - T0 for ts in RECORDED]


def test_speed_10_sends_ten_times_faster() -> None:
    assert replay(Pacer(10), RECORDED) == [START + (ts - T0) // 10 for ts in RECORDED]


def test_a_fractional_speed_slows_down() -> None:
    assert replay(Pacer(0.5), RECORDED) == [START + 2 * (ts - T0) for ts in RECORDED]


def test_speed_0_never_waits() -> None:
    pacer = Pacer(0)
    assert [pacer.wait_us(ts, START) for ts in RECORDED] == [0] * len(RECORDED)


def test_time_lost_sending_is_caught_up_not_added_to_every_later_record() -> None:
    slowness = [0, 400_000, 0, 0, 0, 0]  # the second record took 0.4 s to send
    sent = replay(Pacer(1), RECORDED, slowness)
    assert sent[:2] == [START, START + 1_000]
    assert sent[2:5] == [START + 401_000] * 3  # overdue: sent at once
    assert sent[5] == START + 3_000_000  # back on the recorded schedule


def test_recorded_time_going_backwards_sends_at_once_and_keeps_the_schedule() -> None:
    recorded = [T0, T0 + 500_000, T0 + 200_000, T0 + 600_000]
    assert replay(Pacer(1), recorded) == [START, START + 500_000, START + 500_000, START + 600_000]


@given(
    speed=st.sampled_from([0, 0.25, 1, 3, 10, 1000]),
    recorded=st.lists(st.integers(min_value=0, max_value=10**15), min_size=1, max_size=50),
    slowness=st.lists(st.integers(min_value=0, max_value=10**7), min_size=50, max_size=50),
)
def test_never_a_negative_wait_and_never_early(
    speed: float, recorded: list[int], slowness: list[int]
) -> None:
    sent = replay(Pacer(speed), recorded, slowness)  # asserts every wait >= 0
    if speed:
        for ts, at in zip(recorded, sent, strict=True):
            assert at - START >= (ts - recorded[0]) / speed


@pytest.mark.parametrize("speed", [-1.0, float("inf"), float("nan")])
def test_impossible_speeds_are_refused(speed: float) -> None:
    with pytest.raises(ValueError):
        Pacer(speed)
