"""A tick that comes after a fetched record that never reached the handler sends its partition
back to that record; gaps of commit markers (never fetched as records) and redeliveries pass."""

from tickwire_signals.domain.continuity import Continuity


def test_ticks_in_order_pass() -> None:
    continuity = Continuity()
    continuity.resume_at(0, 100)
    continuity.fetched(0, range(100, 110))
    assert [continuity.check(0, o) for o in range(100, 110)] == [None] * 10


def test_a_fetched_record_that_never_came_is_read_again() -> None:
    continuity = Continuity()
    continuity.resume_at(3, 1376)
    continuity.fetched(3, range(1376, 1500))
    assert continuity.check(3, 1377) == 1376  # the committed offset's record was lost
    # Read again from it: in order from there on.
    continuity.resume_at(3, 1376)
    assert [continuity.check(3, o) for o in (1376, 1377, 1378)] == [None, None, None]
    # A hole in the middle: the first missing record, not the start of the gap.
    assert continuity.check(3, 1379) is None
    assert continuity.check(3, 1383) == 1380


def test_commit_markers_are_not_a_hole() -> None:
    continuity = Continuity()
    continuity.resume_at(1, 0)
    # A transaction of three records, its marker at 3, the next transaction from 4.
    continuity.fetched(1, [0, 1, 2, 4, 5, 6])
    assert [continuity.check(1, o) for o in (0, 1, 2, 4, 5, 6)] == [None] * 6


def test_a_hole_right_after_a_marker_names_the_record_not_the_marker() -> None:
    continuity = Continuity()
    continuity.resume_at(1, 3)  # 3 is a marker; 4 is a record that got lost
    continuity.fetched(1, [4, 5, 6])
    assert continuity.check(1, 5) == 4


def test_redeliveries_pass_and_do_not_move_the_position_back() -> None:
    continuity = Continuity()
    continuity.resume_at(0, 10)
    continuity.fetched(0, range(10, 14))
    assert continuity.check(0, 10) is None and continuity.check(0, 11) is None
    assert continuity.check(0, 10) is None  # the handler skips it by its states' offsets
    assert continuity.check(0, 12) is None


def test_an_unknown_start_still_catches_what_was_fetched_before_the_first_tick() -> None:
    continuity = Continuity()
    continuity.resume_at(4, None)  # no committed offset: from the log's start
    continuity.fetched(4, range(0, 90))
    assert continuity.check(4, 0) is None
    continuity.forget([4])
    continuity.resume_at(4, None)
    continuity.fetched(4, range(0, 90))
    assert continuity.check(4, 28) == 0


def test_a_seek_forward_forgets_what_lies_behind_it() -> None:
    continuity = Continuity()
    continuity.resume_at(2, 0)
    continuity.fetched(2, range(0, 50))
    continuity.resume_at(2, 40)  # committed past them by the partition's previous owner
    assert continuity.check(2, 40) is None


def test_a_revoked_partition_starts_afresh() -> None:
    continuity = Continuity()
    continuity.resume_at(5, 0)
    continuity.fetched(5, range(0, 10))
    continuity.forget([5])
    continuity.fetched(5, range(500, 510))
    assert continuity.check(5, 500) is None
