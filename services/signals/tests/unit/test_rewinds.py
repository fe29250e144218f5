"""Events the stream library let go unapplied are read again, and nothing past them is applied
before they come."""

from __future__ import annotations

from dataclasses import dataclass

from tickwire_signals.domain.rewinds import Rewinds


@dataclass(frozen=True)
class Event:
    partition: int
    offset: int


def offsets(events: list[Event]) -> list[tuple[int, int]]:
    return [(e.partition, e.offset) for e in events]


def test_a_skipped_event_sends_its_partition_back_to_it() -> None:
    rewinds = Rewinds()
    for offset in (10, 11, 12):
        rewinds.skipped(0, offset)
    assert rewinds.seeks() == {0: 10}
    assert rewinds.seeks() == {}
    # Fetched before the seek: past the hole, left out; another partition goes on.
    fetched = [Event(0, 13), Event(0, 14), Event(1, 7)]
    assert offsets(rewinds.admit(fetched)) == [(1, 7)]
    # Read again from the hole: applied in order from there.
    again = [Event(0, 10), Event(0, 11), Event(0, 12), Event(0, 13)]
    assert offsets(rewinds.admit(again)) == [(0, 10), (0, 11), (0, 12), (0, 13)]
    assert offsets(rewinds.admit([Event(0, 14)])) == [(0, 14)]


def test_events_left_out_while_waiting_do_not_move_the_seek() -> None:
    rewinds = Rewinds()
    rewinds.skipped(2, 100)
    rewinds.seeks()
    assert rewinds.admit([Event(2, 150)]) == []
    rewinds.skipped(2, 150)  # the left-out event is acknowledged by nobody: already covered
    assert rewinds.seeks() == {}


def test_an_earlier_skip_moves_a_pending_or_running_seek_back() -> None:
    rewinds = Rewinds()
    rewinds.skipped(0, 50)
    rewinds.skipped(0, 40)
    assert rewinds.seeks() == {0: 40}
    rewinds.skipped(0, 30)
    assert rewinds.seeks() == {0: 30}
    assert offsets(rewinds.admit([Event(0, 35), Event(0, 30)])) == [(0, 30)]


def test_a_partition_that_moved_away_is_forgotten() -> None:
    rewinds = Rewinds()
    rewinds.skipped(0, 5)
    rewinds.skipped(1, 6)
    rewinds.seeks()
    rewinds.skipped(0, 1)
    rewinds.forget([0, 1])
    assert rewinds.seeks() == {}
    assert offsets(rewinds.admit([Event(0, 9), Event(1, 9)])) == [(0, 9), (1, 9)]
