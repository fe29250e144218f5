"""A batch retried after a failure (its transaction aborted, its partitions rewound) is handled
as the first time: its ticks are not taken for copies of themselves."""

from tickwire_core.batch import Consumed
from tickwire_normalize.domain.dedup import DedupWindow
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.handler import NormalizeHandler
from tickwire_testing.raw import quote_raw

T0 = 1_700_000_000_000_000


def seqs(outcome) -> list[int]:
    return [o.value["venue_seq"] for o in outcome.outputs if o.schema == "tick"]


def test_a_retried_batch_publishes_its_ticks_again_and_still_drops_real_copies() -> None:
    handler = NormalizeHandler("t", Limits(max_past_s=1e12), DedupWindow(3_600_000_000, 1000))
    handler([Consumed("raw", 0, 0, b"k", b"", quote_raw(1, "primary", T0 + 1))])
    raws = [
        quote_raw(2, "primary", T0 + 2),
        quote_raw(1, "replica", T0 + 1),
        quote_raw(2, "replica", T0 + 2),
    ]
    retried = [Consumed("raw", 0, 1 + i, b"k", b"", raw) for i, raw in enumerate(raws)]
    assert seqs(handler(retried)) == [2]
    assert seqs(handler(retried)) == [2]  # the first attempt failed after the handler
    later = [quote_raw(3, "primary", T0 + 3), quote_raw(3, "replica", T0 + 3)]
    assert seqs(
        handler([Consumed("raw", 0, 4 + i, b"k", b"", r) for i, r in enumerate(later)])
    ) == [3]


def test_the_window_forgets_only_what_was_first_seen_at_or_after_the_offset() -> None:
    window = DedupWindow(3_600_000_000, 100)
    for offset, key in enumerate(["a", "b", "c", "d"]):
        assert window.first_sighting(0, key, T0 + offset, offset)
    window.forget_from(0, 2)
    window.forget_from(1, 0)  # a partition it never saw: nothing to do
    assert window.size(0) == 2
    assert not window.first_sighting(0, "b", T0 + 4, 4)
    assert window.first_sighting(0, "c", T0 + 5, 5)
