"""The provider clock judges every tick at its own event time, so the signals handler's output is
the same however its input is cut into batches (a worker's batches are whatever the consumer
fetched, and a restart cuts the stream anywhere). A provider silent as a whole is not stale."""

from __future__ import annotations

import itertools
import random

from tickwire_core.serde import AvroSerde
from tickwire_signals.domain.config import SignalsConfig
from tickwire_signals.domain.engine import SignalEngine
from tickwire_signals.handler import SignalsHandler, TickEvent
from tickwire_testing.ticks import quote, trade

T0 = 1_800_000_000_000_000
MS = 1_000
S = 1_000_000
NAMES = ["A-1", "B-2", "C-3"]


def _events(ticks: list[dict]) -> list[TickEvent]:
    serde = AvroSerde()
    return [
        TickEvent(f"simulator|{t['instrument']}".encode(), serde.encode("tick", t), 0, offset)
        for offset, t in enumerate(ticks)
    ]


def _handler() -> SignalsHandler:
    return SignalsHandler(SignalEngine(SignalsConfig()), AvroSerde(), lambda _key: None)


def _run(events: list[TickEvent], cuts: list[int]) -> tuple[list[dict], list[dict]]:
    """(anomalies, bars) of one handler fed the events in batches cut at `cuts`."""
    handler = _handler()
    anomalies: list[dict] = []
    bars: list[dict] = []
    bounds = [0, *sorted(cuts), len(events)]
    for start, end in itertools.pairwise(bounds):
        out = handler(events[start:end]).emitted
        anomalies += out.anomalies
        bars += out.bars
    return anomalies, bars


def _feed() -> list[dict]:
    """Three instruments quoting every 250 ms with trades between; C-3 stops quoting for 12 s
    while the others go on (a stale quote), then all three go silent for 15 s and come back."""
    ticks = []
    for i in range(120):  # 0 .. 30 s
        ts = T0 + i * 250 * MS
        for n, name in enumerate(NAMES):
            if name == "C-3" and 40 <= i < 88:  # 10 s .. 22 s
                ticks.append(trade(name, ts + n, 30.0 + (i % 3) * 0.01, 1.0))
                continue
            mid = 10.0 * (n + 1) + 0.01 * ((i * 7 + n) % 5)
            ticks.append(quote(name, ts + n, round(mid - 0.01, 4), round(mid + 0.01, 4)))
    resume = T0 + 45 * S
    for i in range(40):  # the provider comes back after 15 s of silence, one instrument at a time
        for n, name in enumerate(NAMES):
            ticks.append(quote(name, resume + i * 250 * MS + n * 100 * MS, 9.9, 10.1))
    return ticks


def test_the_output_does_not_depend_on_where_the_batches_are_cut() -> None:
    events = _events(_feed())
    whole = _run(events, [])
    anomalies, bars = whole
    stale = [a for a in anomalies if a["rule"] == "stale_quote"]
    assert [(a["instrument"], a["ts"]) for a in stale] == [
        ("C-3", T0 + 20 * S)
    ]  # A-1 at 20 s, past 9.75 s + 10 s
    assert len(bars) > 40
    rng = random.Random(7)
    for _ in range(30):
        cuts = rng.sample(range(1, len(events)), rng.randint(1, 40))
        assert _run(events, cuts) == whole, f"cut at {sorted(cuts)}"
    assert _run(events, list(range(1, len(events)))) == whole  # one tick a batch


def test_a_stale_quote_is_judged_at_the_tick_that_makes_it_so() -> None:
    # B-2's first tick past A-1's 10 s deadline finds A-1 stale, even when A-1 quotes again right
    # after it in the same batch: a batch boundary can no longer decide it.
    ticks = [quote("A-1", T0, 9.9, 10.1), quote("B-2", T0, 19.9, 20.1)]
    ticks += [quote("B-2", T0 + i * S, 19.9, 20.1) for i in range(1, 11)]
    ticks += [quote("B-2", T0 + 10 * S + 1, 19.9, 20.1), quote("A-1", T0 + 10 * S + 2, 9.9, 10.1)]
    (stale,) = _run(_events(ticks), [])[0]
    assert (stale["instrument"], stale["ts"], stale["rule"]) == (
        "A-1",
        T0 + 10 * S + 1,
        "stale_quote",
    )
    assert "B-2" in stale["detail"]


def test_a_provider_silent_as_a_whole_has_no_stale_instruments_when_it_returns() -> None:
    before = [quote(n, T0 + i * S + k, 9.9, 10.1) for i in range(3) for k, n in enumerate(NAMES)]
    # Back after 20 s, one instrument a second: the late ones are not stale on its return ...
    after = [quote(n, T0 + 22 * S + k * S, 9.9, 10.1) for k, n in enumerate(NAMES)]
    # ... but A-1 and B-2 still silent 10 s after the return, while C-3 quotes on, are.
    later = [quote("C-3", T0 + 24 * S + i * S, 9.9, 10.1) for i in range(1, 12)]
    anomalies, _ = _run(_events(before + after + later), [])
    stale = [(a["instrument"], a["ts"]) for a in anomalies if a["rule"] == "stale_quote"]
    assert stale == [("A-1", T0 + 33 * S), ("B-2", T0 + 34 * S)]
