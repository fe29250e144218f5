"""Normalize's counters move by a batch's records once the batch is handled: ticks out per
instrument, raw records in per instance, copies dropped, rejects by reason; a batch that fails
midway moves none of them."""

import json
import uuid

import pytest
from prometheus_client import REGISTRY

from tickwire_core.batch import Consumed
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.dedup import DedupWindow
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.handler import NormalizeHandler
from tickwire_testing.raw import quote_raw

T0 = 1_700_000_000_000_000


def handler() -> NormalizeHandler:
    return NormalizeHandler("p.ticks", Limits(max_past_s=1e12), DedupWindow(3_600_000_000, 1_000))


def batch(raws: list[dict], first_offset: int = 0) -> list[Consumed]:
    return [Consumed("p.raw", 0, first_offset + i, b"k", b"", raw) for i, raw in enumerate(raws)]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_batch_moves_each_counter_by_its_records() -> None:
    instrument = f"SIM-{uuid.uuid4().hex[:8].upper()}"  # counters are process-wide
    crossed = quote_raw(3, "primary", T0 + 3, instrument)
    quote = json.loads(crossed["payload"])
    crossed["payload"] = json.dumps({**quote, "bid": "102"}).encode()  # bid above the ask
    raws = [
        quote_raw(1, "primary", T0 + 1, instrument),
        quote_raw(2, "primary", T0 + 2, instrument),
        quote_raw(1, "replica", T0 + 1, instrument),  # the replica's copy of the first
        crossed,
    ]
    ticks = {"provider": "simulator", "instrument": instrument, "kind": "quote"}
    rejected = {"provider": "simulator", "instrument": instrument}
    rejected["reason"] = reasons.CROSSED_MARKET
    copies = {"provider": "simulator", "instrument": instrument, "instance": "replica"}
    raw_in = {"provider": "simulator", "instance": "replica"}
    before = [
        sample("tickwire_normalize_ticks_total", **ticks),
        sample("tickwire_normalize_rejected_total", **rejected),
        sample("tickwire_normalize_deduplicated_total", **copies),
        sample("tickwire_normalize_raw_total", **raw_in),
    ]

    outcome = handler()(batch(raws))

    assert len(outcome.rejects) == 1
    after = [
        sample("tickwire_normalize_ticks_total", **ticks),
        sample("tickwire_normalize_rejected_total", **rejected),
        sample("tickwire_normalize_deduplicated_total", **copies),
        sample("tickwire_normalize_raw_total", **raw_in),
    ]
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1, 1, 1]


def test_a_batch_that_fails_midway_counts_nothing() -> None:
    instrument = f"SIM-{uuid.uuid4().hex[:8].upper()}"
    broken = quote_raw(2, "primary", T0 + 2, instrument)
    del broken["received_ts"]  # a decoded record always has it: this is a bug, not a reject
    ticks = {"provider": "simulator", "instrument": instrument, "kind": "quote"}

    with pytest.raises(KeyError):
        handler()(batch([quote_raw(1, "primary", T0 + 1, instrument), broken]))

    assert sample("tickwire_normalize_ticks_total", **ticks) == 0
