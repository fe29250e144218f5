"""Every tick is judged at its own event time, so the signals handler's output is the same however
its input is cut into batches (a worker's batches are whatever the consumer fetched, and a restart
cuts the stream anywhere); a stale quote is judged per instrument, whatever its partition holds."""

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


def _events(ticks: list[dict], partitions: dict[str, int] | None = None) -> list[TickEvent]:
    serde = AvroSerde()
    where = partitions or {}
    offsets: dict[int, int] = {}
    events = []
    for t in ticks:
        part = where.get(t["instrument"], 0)
        offsets[part] = offsets.get(part, -1) + 1
        key = f"simulator|{t['instrument']}".encode()
        events.append(TickEvent(key, serde.encode("tick", t), part, offsets[part]))
    return events


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


def _gap(instrument: str, start: int, end: int, reason: str) -> dict:
    tick = quote(instrument, start, 1.0, 2.0)
    tick.update(kind="gap", bid_price=None, ask_price=None, gap_end_ts=end, gap_reason=reason)
    return tick


def _feed() -> list[dict]:
    """Three instruments quoting every 250 ms with trades between; C-3 stops quoting for 12 s
    while it trades on (a stale quote), then all three go silent for 15 s and come back, A-1 and
    B-2 after a gap event of their feed's connection, C-3 after one of its own silence."""
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
    for n, name in enumerate(NAMES):
        reason = "silence" if name == "C-3" else "stale"
        ticks.append(_gap(name, T0 + 30 * S - 250 * MS + n, resume + n * 100 * MS, reason))
    for i in range(40):  # back one instrument at a time
        for n, name in enumerate(NAMES):
            ticks.append(quote(name, resume + i * 250 * MS + n * 100 * MS, 9.9, 10.1))
    return ticks


def test_the_output_does_not_depend_on_where_the_batches_are_cut() -> None:
    events = _events(_feed())
    whole = _run(events, [])
    anomalies, bars = whole
    stale = [a for a in anomalies if a["rule"] == "stale_quote"]
    # C-3's last quote at 9.75 s: its trade at 20 s is past the timeout; its return at 45.2 s
    # follows a silence of its own. A-1's and B-2's silences were their connection's.
    assert [(a["instrument"], a["ts"]) for a in stale] == [
        ("C-3", T0 + 20 * S + 2),
        ("C-3", T0 + 45 * S + 200 * MS),
    ]
    assert len(bars) > 40
    rng = random.Random(7)
    for _ in range(30):
        cuts = rng.sample(range(1, len(events)), rng.randint(1, 40))
        assert _run(events, cuts) == whole, f"cut at {sorted(cuts)}"
    assert _run(events, list(range(1, len(events)))) == whole  # one tick a batch


def test_an_instrument_alone_in_its_partition_is_judged_stale() -> None:
    # The simulator's three instruments land on partitions of their own: no other instrument of
    # the provider shares a clock with them, and a stale quote is found all the same.
    ticks = [quote(n, T0 + i * S + k, 9.9, 10.1) for i in range(3) for k, n in enumerate(NAMES)]
    ticks += [quote("A-1", T0 + i * S, 9.9, 10.1) for i in range(3, 30)]
    ticks += [
        _gap("B-2", T0 + 2 * S + 1, T0 + 20 * S, "silence"),
        quote("B-2", T0 + 20 * S, 9.9, 10.1),
    ]
    ticks += [trade("C-3", T0 + 13 * S, 30.0, 1.0)]
    partitions = {"A-1": 3, "B-2": 2, "C-3": 0}
    anomalies, _ = _run(_events(ticks, partitions), [])
    stale = [(a["instrument"], a["ts"]) for a in anomalies if a["rule"] == "stale_quote"]
    assert sorted(stale) == [("B-2", T0 + 20 * S), ("C-3", T0 + 13 * S)]


def _run_restarted(events: list[TickEvent], cuts: list[int]) -> tuple[list[dict], list[dict]]:
    """(anomalies, bars) of a worker killed after each cut and started again: each new handler
    loads the states the earlier ones handed back to be stored, as the state table holds them."""
    table: dict[bytes, dict] = {}
    anomalies: list[dict] = []
    bars: list[dict] = []
    bounds = [0, *sorted(cuts), len(events)]
    for start, end in itertools.pairwise(bounds):
        handler = SignalsHandler(SignalEngine(SignalsConfig()), AvroSerde(), table.get)
        result = handler(events[start:end])
        anomalies += result.emitted.anomalies
        bars += result.emitted.bars
        table.update({key: state for key, _partition, state in result.states})
    return anomalies, bars


def _by_identity(outputs: tuple[list[dict], list[dict]]) -> tuple[list[dict], list[dict]]:
    """A restart may change when a quiet instrument's bar is emitted, never what it holds."""
    anomalies, bars = outputs
    return (
        sorted(anomalies, key=lambda a: (a["instrument"], a["rule"], a["ts"])),
        sorted(bars, key=lambda b: (b["instrument"], b["interval"], b["start_ts"])),
    )


def test_a_restart_judges_a_quiet_instrument_by_the_watermark_its_partition_gave_it() -> None:
    # B-2 quotes once, then A-1 alone moves the partition's clock: B-2's watermark goes with it,
    # in a batch that closes none of B-2's bars. B-2's next quote is then behind its watermark:
    # late. A worker restarted before that quote must find B-2's watermark where it was left.
    ticks = [quote("B-2", T0, 9.9, 10.1), quote("A-1", T0, 19.9, 20.1)]
    ticks += [quote("A-1", T0 + i * S, 19.9, 20.1) for i in range(1, 12)]
    ticks += [quote("B-2", T0 + 8 * S, 9.9, 10.1)]  # lateness 2 s: its 1 s bar closed at 9 s
    ticks += [quote("A-1", T0 + i * S, 19.9, 20.1) for i in range(12, 20)]
    events = _events(ticks)
    whole = _by_identity(_run(events, []))
    assert any(a["rule"] == "late_tick" and a["instrument"] == "B-2" for a in whole[0])
    for cut in (2, 6, 13):  # B-2's state loaded only at its quote; its bar closed; both
        restarted = _by_identity(_run_restarted(events, [cut]))
        assert restarted == whole, f"restarted after tick {cut}"


def test_restarts_anywhere_change_when_outputs_come_never_what_they_are() -> None:
    events = _events(_feed())
    whole = _by_identity(_run(events, []))
    rng = random.Random(11)
    for _ in range(8):
        cuts = rng.sample(range(1, len(events)), rng.randint(1, 12))
        assert _by_identity(_run_restarted(events, cuts)) == whole, f"cut at {sorted(cuts)}"


def test_a_late_tick_after_a_restart_reads_as_far_behind_as_without_one() -> None:
    # The clock moves at A-1's ticks, every 300 ms, off the bar boundaries. B-2, quiet, rejoins
    # the clock after a restart at its late quote: its watermark must stand where the clock had
    # taken it uninterrupted, or the judgement's value (how far behind) reads otherwise. A
    # restart's first ticks look at the instruments at other ticks than an uninterrupted run's.
    ticks = [quote("B-2", T0, 9.9, 10.1)]
    ticks += [quote("A-1", T0 + i * 300 * MS, 19.9, 20.1) for i in range(40)]
    ticks += [quote("B-2", T0 + 5 * S + 100 * MS, 9.9, 10.1)]  # its 1 s bar closed at 6 s
    ticks += [quote("A-1", T0 + i * 300 * MS, 19.9, 20.1) for i in range(40, 60)]
    events = _events(ticks)
    whole = _by_identity(_run(events, []))
    late = [a for a in whole[0] if a["rule"] == "late_tick"]
    assert [a["instrument"] for a in late] == ["B-2"]
    for cut in range(2, 42, 3):
        restarted = _by_identity(_run_restarted(events, [cut]))
        assert restarted == whole, f"restarted after tick {cut}"
