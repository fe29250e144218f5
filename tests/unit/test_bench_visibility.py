"""First sightings of stored ticks: one sample per tick, from the first poll that returned it,
however out of order ticks become visible, with the reader's window following the gapless
ingest sequence."""

from tests.unit.benchmark_modules import load_benchmark

FirstSight = load_benchmark("visibility").FirstSight


def test_each_tick_is_sampled_once_at_the_first_poll_that_returned_it() -> None:
    sight = FirstSight()
    # Ticks 1..3 received at 1,000 / 2,000 / 3,000 us; a batch holding 1 and 3 commits first.
    assert sight.observe([(1, 1_000), (3, 3_000)], polled_us=10_000) == 2
    assert (sight.low, sight.low_received_us, sight.seen) == (2, 1_000, 2)
    # The next poll starts at tick 2 and returns 3 again: not a second sample.
    assert sight.observe([(2, 2_000), (3, 3_000)], polled_us=30_000) == 1
    assert sight.latencies_us == [(1_000, 9_000), (3_000, 7_000), (2_000, 28_000)]
    assert (sight.low, sight.low_received_us, sight.ahead, sight.repeated) == (4, 3_000, {}, 1)


def test_the_warm_up_is_left_out_by_receive_time() -> None:
    sight = FirstSight()
    sight.observe([(1, 1_000), (2, 5_000), (3, 6_000)], polled_us=8_000)
    assert sight.after_warmup(5_000) == [3.0, 2.0]
    assert sight.after_warmup(0) == [7.0, 3.0, 2.0]


def test_a_tick_never_seen_holds_the_window_open_and_is_not_counted() -> None:
    sight = FirstSight()
    sight.observe([(1, 1), (3, 3), (4, 4)], polled_us=10)
    sight.observe([(3, 3), (4, 4), (5, 5)], polled_us=20)
    assert (sight.low, sight.seen, sorted(sight.ahead)) == (2, 4, [3, 4, 5])
    assert sight.repeated == 2
