"""The fan-out: each record reaches exactly the streams that asked for it; a slow stream's queue
stays bounded, and what it drops is counted and told to it in place, without touching others."""

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickwire_api.domain.live import KINDS, LiveEvent, LiveFilter
from tickwire_api.domain.live_fanout import (
    Ended,
    Fanout,
    Lagged,
    Subscription,
    TooManyStreams,
)

ANY_KIND = KINDS["both"]


def event(n: int, instrument: str = "SIM-A", kind: str = "anomaly") -> LiveEvent:
    return LiveEvent(kind, "simulator", instrument, f"t:0:{n}", f'{{"n":{n}}}')  # type: ignore[arg-type]


def wants(*instruments: str, kinds: Any = ANY_KIND, provider: str | None = None) -> LiveFilter:
    return LiveFilter(frozenset(instruments), kinds, provider)


async def drain(subscription: Subscription) -> list[Any]:
    """Everything the stream would send now, until it would wait."""
    items = []
    while (item := await subscription.next(0)) is not None:
        items.append(item)
    return items


def test_each_record_reaches_exactly_the_streams_that_asked_for_it() -> None:
    async def scenario() -> None:
        fanout = Fanout(queue_size=10, max_streams=10)
        a = fanout.subscribe(wants("SIM-A"))
        ab_signals = fanout.subscribe(wants("SIM-A", "SIM-B", kinds=KINDS["signals"]))
        b_binance = fanout.subscribe(wants("SIM-B", provider="binance"))
        sent = [
            event(1, "SIM-A"),
            event(2, "SIM-B", "signal"),
            event(3, "SIM-A", "signal"),
            event(4, "SIM-C"),
            LiveEvent("anomaly", "binance", "SIM-B", "t:0:5", "{}"),
        ]
        assert fanout.publish(sent) == {}
        assert await drain(a) == [sent[0], sent[2]]
        assert await drain(ab_signals) == [sent[1], sent[2]]
        assert await drain(b_binance) == [sent[4]]

    asyncio.run(scenario())


def test_a_slow_stream_drops_beyond_its_queue_and_is_told_how_many() -> None:
    async def scenario() -> None:
        fanout = Fanout(queue_size=3, max_streams=2)
        slow = fanout.subscribe(wants("SIM-A"))
        fast = fanout.subscribe(wants("SIM-A"))
        got_fast = []
        for n in range(10):
            fanout_drops = fanout.publish([event(n)])
            got_fast += await drain(fast)  # the fast one keeps up
            assert sum(fanout_drops.values()) == (1 if n >= 3 else 0)
        assert got_fast == [event(n) for n in range(10)]
        assert slow.missed == 7
        assert await drain(slow) == [event(0), event(1), event(2), Lagged(7)]
        assert slow.missed == 0
        fanout.publish([event(10)])
        assert await drain(slow) == [event(10)]  # the stream goes on

    asyncio.run(scenario())


def test_the_lagged_notice_goes_exactly_where_the_events_were_dropped() -> None:
    async def scenario() -> None:
        fanout = Fanout(queue_size=2, max_streams=1)
        stream = fanout.subscribe(wants("SIM-A"))
        drops = fanout.publish([event(1), event(2), event(3), event(4)])
        assert drops == {"anomaly": 2}
        assert await stream.next(0) == event(1)
        fanout.publish([event(5)])
        assert await drain(stream) == [event(2), Lagged(2), event(5)]

    asyncio.run(scenario())


def test_an_idle_stream_gets_none_when_its_wait_runs_out() -> None:
    async def scenario() -> None:
        stream = Fanout(queue_size=1, max_streams=1).subscribe(wants("SIM-A"))
        assert await stream.next(0.01) is None

    asyncio.run(scenario())


def test_a_waiting_stream_wakes_up_for_an_event() -> None:
    async def scenario() -> None:
        fanout = Fanout(queue_size=1, max_streams=1)
        stream = fanout.subscribe(wants("SIM-A"))
        waiting = asyncio.create_task(stream.next(5.0))
        await asyncio.sleep(0)
        fanout.publish([event(1)])
        assert await waiting == event(1)

    asyncio.run(scenario())


def test_the_number_of_streams_is_capped_and_a_closed_one_frees_its_place() -> None:
    async def scenario() -> None:
        fanout = Fanout(queue_size=1, max_streams=2)
        first = fanout.subscribe(wants("SIM-A"))
        fanout.subscribe(wants("SIM-A"))
        with pytest.raises(TooManyStreams, match="maximum of 2"):
            fanout.subscribe(wants("SIM-B"))
        assert fanout.unsubscribe(first) is True
        assert fanout.unsubscribe(first) is False
        assert len(fanout) == 1
        third = fanout.subscribe(wants("SIM-B"))
        fanout.publish([event(1, "SIM-A"), event(2, "SIM-B")])
        assert await drain(first) == []  # forgotten: reached by nothing
        assert await drain(third) == [event(2, "SIM-B")]

    asyncio.run(scenario())


def test_closing_ends_every_stream_after_what_it_holds_and_takes_no_new_one() -> None:
    async def scenario() -> None:
        fanout = Fanout(queue_size=2, max_streams=5)
        stream = fanout.subscribe(wants("SIM-A"))
        fanout.publish([event(1), event(2), event(3)])
        fanout.close()
        assert await drain(stream) == [event(1), event(2), Ended()]
        assert fanout.publish([event(4)]) == {}
        with pytest.raises(TooManyStreams, match="shutting down"):
            fanout.subscribe(wants("SIM-A"))

    asyncio.run(scenario())


def test_a_queue_needs_room() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Subscription(wants("SIM-A"), 0)


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 5),
    steps=st.lists(st.one_of(st.integers(1, 8), st.just(0)), max_size=30),
)
def test_whatever_the_pace_nothing_is_lost_unaccounted_or_reordered(
    capacity: int, steps: list[int]
) -> None:
    """Steps: n > 0 publishes n events; 0 lets the client read one item."""

    async def scenario() -> None:
        fanout = Fanout(queue_size=capacity, max_streams=1)
        stream = fanout.subscribe(wants("SIM-A"))
        published = dropped = 0
        received: list[Any] = []
        for step in steps:
            if step:
                drops = fanout.publish([event(published + i) for i in range(step)])
                published += step
                dropped += drops["anomaly"]
                # Bounded: never more than the capacity, plus one Lagged notice.
                assert stream.queued <= capacity + 1
            elif (item := await stream.next(0)) is not None:
                received.append(item)
        received += await drain(stream)
        events = [item for item in received if isinstance(item, LiveEvent)]
        told = sum(item.missed for item in received if isinstance(item, Lagged))
        assert len(events) + told == published
        assert told == dropped
        numbers = [int(e.id.rsplit(":", 1)[1]) for e in events]
        assert numbers == sorted(numbers)
        # Each Lagged stands where its events went missing: between the numbers around it.
        position = 0
        for item in received:
            if isinstance(item, Lagged):
                position += item.missed
            else:
                assert int(item.id.rsplit(":", 1)[1]) == position
                position += 1

    asyncio.run(scenario())
