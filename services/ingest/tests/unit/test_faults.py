import bisect
import json
import math
from dataclasses import replace
from typing import Any

import pytest

from tickwire_core.errors import ConfigError
from tickwire_core.settings import load_settings
from tickwire_ingest.connectors import fault_config
from tickwire_ingest.domain import faults
from tickwire_ingest.domain.events import DISCONNECT, SILENCE, Gap
from tickwire_ingest.domain.faults import FaultConfig, FaultCounts, parse_spike_sizes_bps
from tickwire_ingest.domain.sequence import SequenceTracker
from tickwire_ingest.domain.simulator import SimConfig, SimMessage, Simulator, parse_instruments
from tickwire_ingest.settings import IngestSettings

T0 = 1_700_000_000_000_000
STEP_US = 1_000  # simulated time between updates
INSTRUMENTS = parse_instruments("A:100,B:3500:0.05,C:20:0.001")


def simulator(seed: int = 11, **rates: Any) -> Simulator:
    return Simulator(SimConfig(INSTRUMENTS, seed=seed, faults=FaultConfig(**rates)))


def run(sim: Simulator, n: int) -> list[SimMessage | Gap]:
    return [item for i in range(n) for item in sim.step(T0 + i * STEP_US)]


def clean(n: int, seed: int = 11) -> list[SimMessage]:
    sim = simulator(seed)
    return [sim.next_message(T0 + i * STEP_US) for i in range(n)]


def only_messages(items: list[SimMessage | Gap]) -> list[SimMessage]:
    return [item for item in items if isinstance(item, SimMessage)]


def body(message: SimMessage) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(message.payload)
    return decoded


def mid(message: SimMessage) -> float:
    b = body(message)
    return float(b["price"]) if b["type"] == "trade" else (float(b["bid"]) + float(b["ask"])) / 2


def assert_binomial(count: int, trials: int, p: float) -> None:
    """count is a Binomial(trials, p) draw: within 5 standard deviations of its mean (a false
    alarm about once in 3.5 million seeds; the seeds here are fixed, so the test is stable)."""
    mean, sd = trials * p, math.sqrt(trials * p * (1 - p))
    assert abs(count - mean) <= 5 * sd, f"{count} faults in {trials} trials at p={p}"
    assert count > 0


def test_zero_rates_change_nothing_whatever_the_other_fault_settings() -> None:
    sim = simulator(spike_factor=3.0, silence_s=9.0, gap_size=500)
    out = run(sim, 5000)
    assert out == clean(5000)
    assert sim.fault_counts == FaultCounts() and sim.fault_counts.total == 0


def test_same_seed_same_faults_other_seed_other_faults() -> None:
    rates: dict[str, Any] = dict(
        crossed=0.05, spike=0.05, duplicate=0.05, out_of_order=0.05, malformed=0.05, gap=0.05
    )
    first, again = simulator(**rates), simulator(**rates)
    out = run(first, 3000)
    assert out == run(again, 3000)
    assert first.fault_counts == again.fault_counts and first.fault_counts.total > 0

    def struck(items: list[SimMessage | Gap]) -> list[int]:
        return [i for i, m in enumerate(only_messages(items)) if m.faults]

    assert struck(out) != struck(run(simulator(seed=12, **rates), 3000))


def test_crossed_quotes_have_bid_above_ask_and_nothing_else_changes() -> None:
    n, p = 10_000, 0.04
    sim = simulator(crossed=p)
    out = only_messages(run(sim, n))
    reference = clean(n)
    quotes = [m for m in reference if m.feed == "quotes"]
    crossed = [m for m in out if faults.CROSSED in m.faults]
    assert_binomial(sim.fault_counts.crossed, len(quotes), p)
    assert len(crossed) == sim.fault_counts.crossed
    for got, want in zip(out, reference, strict=True):
        if faults.CROSSED not in got.faults:
            assert got == want
            continue
        b, w = body(got), body(want)
        assert float(b["bid"]) > float(b["ask"])
        assert (b["bid"], b["ask"]) == (w["ask"], w["bid"])
        assert {k: v for k, v in b.items() if k not in ("bid", "ask")} == {
            k: v for k, v in w.items() if k not in ("bid", "ask")
        }


def test_a_spike_moves_one_update_by_the_factor_and_the_walk_carries_on() -> None:
    n, p, factor = 10_000, 0.04, 1.5
    sim = simulator(spike=p, spike_factor=factor)
    out = only_messages(run(sim, n))
    assert_binomial(sim.fault_counts.spike, n, p)
    spiked = 0
    for got, want in zip(out, clean(n), strict=True):
        if faults.SPIKE in got.faults:
            spiked += 1
            # Within the spread's noise of the clean price times the factor.
            assert mid(got) / mid(want) == pytest.approx(factor, rel=2e-3)
            assert body(got)["seq"] == body(want)["seq"]
        else:
            assert got == want
    assert spiked == sim.fault_counts.spike


def test_sized_spikes_displace_the_mid_by_their_labelled_size_with_either_sign() -> None:
    n, sizes = 10_000, (0.01, 0.03)
    sim = simulator(spike=0.04, spike_sizes=sizes)
    out = only_messages(run(sim, n))
    seen = set()
    for got, want in zip(out, clean(n), strict=True):
        if faults.SPIKE in got.faults:
            seen.add(got.spike)
            assert math.log(mid(got) / mid(want)) == pytest.approx(got.spike, abs=2e-3)
        else:
            assert got == want and got.spike == 0.0
    assert seen == {-0.03, -0.01, 0.01, 0.03}


def test_drift_trends_the_walk_without_changing_its_noise() -> None:
    flat = Simulator(SimConfig(INSTRUMENTS[:1], seed=3))
    trending = Simulator(SimConfig(INSTRUMENTS[:1], seed=3, drift_per_tick=1e-3))
    n = 2_000
    log_ratio = [
        math.log(mid(trending.next_message(T0 + i)) / mid(flat.next_message(T0 + i)))
        for i in range(n)
    ]
    # The same draws, shifted by the drift: after k updates the trend is k * drift.
    assert log_ratio[-1] == pytest.approx(n * 1e-3, abs=5e-3)


def test_duplicates_repeat_the_identical_message_right_after_it() -> None:
    n, p = 10_000, 0.04
    sim = simulator(duplicate=p)
    out = only_messages(run(sim, n))
    assert_binomial(sim.fault_counts.duplicate, n, p)
    assert len(out) == n + sim.fault_counts.duplicate
    originals = []
    for i, message in enumerate(out):
        if faults.DUPLICATE in message.faults:
            assert message.payload == out[i - 1].payload
            assert message.instrument == out[i - 1].instrument
        else:
            originals.append(message)
    assert originals == clean(n)


def test_out_of_order_messages_follow_their_instruments_next_message() -> None:
    n, p = 10_000, 0.04
    sim = simulator(out_of_order=p)
    out = only_messages(run(sim, n))
    assert_binomial(sim.fault_counts.out_of_order, n, p)
    last_seq: dict[str, int] = {}
    late = 0
    for message in out:
        seq = body(message)["seq"]
        if faults.OUT_OF_ORDER in message.faults:
            late += 1
            assert last_seq[message.instrument] == seq + 1  # overtaken by exactly its successor
        else:
            assert seq > last_seq.get(message.instrument, 0)
            last_seq[message.instrument] = seq
    # Every held message comes out except, perhaps, the last one of each instrument.
    assert sim.fault_counts.out_of_order - len(INSTRUMENTS) <= late <= sim.fault_counts.out_of_order
    reference = {(m.instrument, m.payload) for m in clean(n)}
    assert {(m.instrument, m.payload) for m in out} <= reference
    assert len(out) >= n - len(INSTRUMENTS)


def test_malformed_payloads_are_cut_short_or_carry_a_wrong_typed_price() -> None:
    n, p = 10_000, 0.04
    sim = simulator(malformed=p)
    out = only_messages(run(sim, n))
    assert_binomial(sim.fault_counts.malformed, n, p)
    modes = {"truncated": 0, "wrong_type": 0}
    for got, want in zip(out, clean(n), strict=True):
        if faults.MALFORMED not in got.faults:
            assert got == want
            continue
        try:
            b = json.loads(got.payload)
        except ValueError:
            modes["truncated"] += 1
            assert want.payload.startswith(got.payload) and got.payload != want.payload
            continue
        modes["wrong_type"] += 1
        price = "bid" if b["type"] == "quote" else "price"
        assert b[price] == [body(want)[price]]
    assert sum(modes.values()) == sim.fault_counts.malformed
    assert min(modes.values()) > 0


def test_a_gap_skips_gap_size_sequence_numbers_which_the_tracker_reports_as_lost() -> None:
    n, p, size = 10_000, 0.04, 7
    sim = simulator(gap=p, gap_size=size)
    out = only_messages(run(sim, n))
    assert_binomial(sim.fault_counts.gap, n, p)
    tracker = SequenceTracker()
    found = []
    skipped = dict.fromkeys(("A", "B", "C"), 0)
    for got, want in zip(out, clean(n), strict=True):
        b, w = body(got), body(want)
        _, gap = tracker.check(got.instrument, b["seq"], b["ts"])
        assert (gap is not None) == (faults.GAP in got.faults)
        if gap is not None:
            found.append(gap)
            assert gap.lost == size
            skipped[got.instrument] += size
        # Only the numbering moves: the market is the clean one, update for update.
        assert b["seq"] == w["seq"] + skipped[got.instrument]
        assert {k: v for k, v in b.items() if k != "seq"} == {
            k: v for k, v in w.items() if k != "seq"
        }
    assert len(found) == sim.fault_counts.gap


def test_a_silenced_instrument_sends_nothing_for_the_silence_then_a_gap_event() -> None:
    n, p, silence_s = 10_000, 0.01, 0.05  # 50 updates of simulated time
    sim = simulator(silence=p, silence_s=silence_s)
    out = run(sim, n)
    messages = only_messages(out)
    gaps = [item for item in out if isinstance(item, Gap)]
    # Every update of a speaking instrument, except the one ending a silence, may start one.
    chances = len(messages) - len(gaps) + sim.fault_counts.silence
    assert_binomial(sim.fault_counts.silence, chances, p)
    still_silent = sim.fault_counts.silence - len(gaps)
    assert 0 <= still_silent <= len(INSTRUMENTS)
    sent_ts: dict[str, list[int]] = {}
    for message in messages:
        sent_ts.setdefault(message.instrument, []).append(body(message)["ts"])
    last_seq: dict[str, int] = {}
    for i, item in enumerate(out):
        if isinstance(item, Gap):
            assert item.reason == SILENCE
            assert item.end_ts - item.start_ts >= silence_s * 1e6
            resumed = out[i + 1]
            assert isinstance(resumed, SimMessage) and resumed.instrument == item.instrument
            assert body(resumed)["ts"] == item.end_ts
            # The instrument's first message at or after the silence began is the resumed one.
            sent = sent_ts[item.instrument]
            assert sent[bisect.bisect_left(sent, item.start_ts)] == item.end_ts
        else:
            seq = body(item)["seq"]
            assert seq == last_seq.get(item.instrument, 0) + 1  # silence loses no numbers
            last_seq[item.instrument] = seq


def test_a_disconnect_ends_in_a_gap_event_and_a_price_moved_for_good() -> None:
    n, p, move = 20_000, 0.002, 0.05  # 500 bps: far beyond a step of the walk and a half-spread
    sim = simulator(jump=p, jump_sizes=(move,), jump_s=0.05)
    out = run(sim, n)
    gaps = [i for i, item in enumerate(out) if isinstance(item, Gap)]
    assert len(gaps) >= 10
    assert 0 <= sim.fault_counts.jump - len(gaps) <= len(INSTRUMENTS)  # some still away at the end
    chances = len(only_messages(out)) - len(gaps) + sim.fault_counts.jump
    assert_binomial(sim.fault_counts.jump, chances, p)
    signs = set()
    for i in gaps:
        gap = out[i]
        assert isinstance(gap, Gap) and gap.reason == DISCONNECT
        assert gap.end_ts - gap.start_ts >= 0.05 * 1e6
        mine = [m for m in only_messages(out) if m.instrument == gap.instrument]
        before = [m for m in mine if body(m)["ts"] < gap.start_ts]
        after = [m for m in mine if body(m)["ts"] >= gap.end_ts][:5]
        resumed = out[i + 1]
        assert resumed == after[0] and resumed.faults == (faults.JUMP,)
        assert abs(resumed.jump) == move and f"{resumed.jump * 1e4:+.0f} bps" in gap.detail
        signs.add(math.copysign(1.0, resumed.jump))
        if before:
            # The price moved by the drawn size and stays there: the walk carries on from it.
            for message in after:
                assert abs(math.log(mid(message) / mid(before[-1])) - resumed.jump) < 0.003
    assert signs == {-1.0, 1.0}
    # A labelled jump is on the first message after its gap and nowhere else.
    assert sum(bool(m.jump) for m in only_messages(out)) == len(gaps)


def test_disconnects_counted_in_updates_resume_at_that_update() -> None:
    sim = simulator(jump=0.002, jump_updates=40)
    out: list[SimMessage | Gap] = []
    resumed_at: list[int] = []
    for i in range(10_000):
        items = sim.step(T0 + i * STEP_US)
        if any(isinstance(item, Gap) for item in items):
            resumed_at.append(i)
        out.extend(items)
    gaps = [item for item in out if isinstance(item, Gap)]
    assert gaps and all("disconnect of 40 updates" in gap.detail for gap in gaps)
    for gap, i in zip(gaps, resumed_at, strict=True):
        # At least 40 updates of the venue (each a STEP_US apart) passed in between.
        assert gap.end_ts == T0 + i * STEP_US and gap.end_ts - gap.start_ts >= 40 * STEP_US


def test_all_faults_at_once_are_each_counted_and_tagged() -> None:
    rates: dict[str, Any] = {kind: 0.02 for kind in faults.KINDS}
    sim = simulator(**rates, silence_s=0.01, jump_s=0.01)
    out = run(sim, 20_000)
    counts = sim.fault_counts.as_dict()
    assert set(counts) == set(faults.KINDS) and all(counts[kind] > 0 for kind in faults.KINDS)
    tagged = {kind: 0 for kind in faults.KINDS}
    for message in only_messages(out):
        # A duplicate carries the tags of the message it repeats; count each fault once.
        kinds = [faults.DUPLICATE] if faults.DUPLICATE in message.faults else message.faults
        for kind in kinds:
            tagged[kind] += 1
        if faults.MALFORMED not in message.faults:
            assert isinstance(json.loads(message.payload)["seq"], int)
    # Messages still held back at the end (at most a message and its duplicate per instrument)
    # were counted but not sent.
    for kind in (faults.CROSSED, faults.SPIKE, faults.MALFORMED, faults.GAP, faults.DUPLICATE):
        assert 0 <= counts[kind] - tagged[kind] <= 2 * len(INSTRUMENTS)
    silences = [item for item in out if isinstance(item, Gap) and item.reason == SILENCE]
    assert 0 <= counts[faults.SILENCE] - len(silences) <= len(INSTRUMENTS)
    disconnects = [item for item in out if isinstance(item, Gap) and item.reason == DISCONNECT]
    assert 0 <= counts[faults.JUMP] - len(disconnects) <= len(INSTRUMENTS)
    # Each disconnect's label is on the message it resumed with (or on that message held back).
    assert 0 <= len(disconnects) - tagged[faults.JUMP] <= 2 * len(INSTRUMENTS)


@pytest.mark.parametrize(
    "change",
    [
        {"crossed": -0.1},
        {"duplicate": 1.5},
        {"spike_factor": 0.0},
        {"spike_factor": math.inf},
        {"spike_sizes": (0.01, -0.02)},
        {"silence_s": -1.0},
        {"silence_updates": -1},
        {"gap_size": 0},
        {"jump": 1.5},
        {"jump_sizes": ()},
        {"jump_sizes": (0.01, math.nan)},
        {"jump_s": -1.0},
        {"jump_updates": -1},
    ],
)
def test_impossible_fault_settings_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        replace(FaultConfig(), **change)


def test_fault_config_is_built_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")
    defaults = fault_config(load_settings(IngestSettings))
    # A few labelled faults a minute by default, spikes of several sizes (in basis points).
    assert (defaults.crossed, defaults.spike, defaults.silence) == (0.0002, 0.001, 0.00005)
    assert defaults.spike_sizes == (0.0015, 0.0025, 0.0035)
    assert (defaults.silence_s, defaults.silence_updates) == (12.0, 12 * 200)  # at 200 updates/s
    assert (defaults.duplicate, defaults.out_of_order, defaults.malformed, defaults.gap) == (0,) * 4
    assert (defaults.jump, defaults.jump_sizes) == (0.00002, (0.01, 0.03))
    assert (defaults.jump_s, defaults.jump_updates) == (3.0, 3 * 200)
    monkeypatch.setenv("TICKWIRE_SIM_FAULTS", "false")
    assert fault_config(load_settings(IngestSettings)) == FaultConfig()
    monkeypatch.delenv("TICKWIRE_SIM_FAULTS")
    for name, value in [
        ("CROSSED", "0.1"),
        ("SPIKE", "0.2"),
        ("SPIKE_FACTOR", "2"),
        ("SPIKE_SIZES_BPS", ""),
        ("DUPLICATE", "0.3"),
        ("OUT_OF_ORDER", "0.4"),
        ("MALFORMED", "0.5"),
        ("SILENCE", "0.6"),
        ("SILENCE_S", "7"),
        ("GAP", "0.8"),
        ("GAP_SIZE", "9"),
        ("JUMP", "0.01"),
        ("JUMP_SIZES_BPS", "50"),
        ("JUMP_S", "4"),
    ]:
        monkeypatch.setenv(f"TICKWIRE_SIM_FAULT_{name}", value)
    assert fault_config(load_settings(IngestSettings)) == FaultConfig(
        crossed=0.1,
        spike=0.2,
        spike_factor=2.0,
        duplicate=0.3,
        out_of_order=0.4,
        malformed=0.5,
        silence=0.6,
        silence_s=7.0,
        silence_updates=7 * 200,
        gap=0.8,
        gap_size=9,
        jump=0.01,
        jump_sizes=(0.005,),
        jump_s=4.0,
        jump_updates=4 * 200,
    )
    monkeypatch.setenv("TICKWIRE_SIM_RATE", "0")  # as fast as possible: seconds of exchange time
    assert fault_config(load_settings(IngestSettings)).silence_updates == 0
    assert fault_config(load_settings(IngestSettings)).jump_updates == 0
    monkeypatch.setenv("TICKWIRE_SIM_FAULT_SPIKE_SIZES_BPS", " 10, 2.5 ")
    assert fault_config(load_settings(IngestSettings)).spike_sizes == (0.001, 0.00025)


@pytest.mark.parametrize("sizes", ["ten", "0", "-5", "nan", "5,inf"])
def test_spike_sizes_must_be_positive_basis_points(sizes: str) -> None:
    with pytest.raises(ValueError, match="spike size"):
        parse_spike_sizes_bps(sizes)


@pytest.mark.parametrize("sizes", ["", "0", "x"])
def test_jump_sizes_must_be_positive_basis_points(
    sizes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")
    monkeypatch.setenv("TICKWIRE_SIM_FAULT_JUMP_SIZES_BPS", sizes)
    with pytest.raises(ConfigError, match=r"TICKWIRE_SIM_FAULT_JUMP_SIZES_BPS.*jump size"):
        load_settings(IngestSettings)
