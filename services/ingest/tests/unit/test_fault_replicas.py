"""Two instances of one seeded simulator, each stamping updates with its own jittery clock, as a
primary and its replica do: with faults on they still send the same venue, update for update."""

import json
import random
from collections import Counter
from typing import Any

from tickwire_ingest.domain.events import Gap
from tickwire_ingest.domain.faults import FaultConfig
from tickwire_ingest.domain.simulator import SimConfig, Simulator, parse_instruments

T0 = 1_700_000_000_000_000
INSTRUMENTS = parse_instruments("A:100,B:3500:0.05,C:20:0.001")
UPDATES = 20_000
PACE_US = 5_000  # 200 updates a second, as the service paces them
# Rates high enough for several silences, disconnects, spikes and crossed books in the run.
RATES: dict[str, Any] = {
    "crossed": 0.002,
    "spike": 0.002,
    "silence": 0.0005,
    "silence_s": 2.0,
    "jump": 0.0005,
    "jump_s": 1.0,
}


def instance(faults: FaultConfig, clock_seed: int) -> tuple[dict[Any, Any], list[tuple[Any, ...]]]:
    """What one instance sent: each update's payload without its times, by (instrument, seq), and
    its gap events as (instrument, reason). Its clock drifts by up to 40 % of the pace."""
    sim = Simulator(SimConfig(INSTRUMENTS, seed=7, faults=faults))
    jitter = random.Random(clock_seed)
    sent: dict[Any, Any] = {}
    gaps: list[tuple[Any, ...]] = []
    ts = T0
    for _ in range(UPDATES):
        ts += PACE_US + jitter.randint(-2_000, 2_000)
        for item in sim.step(ts):
            if isinstance(item, Gap):
                gaps.append((item.instrument, item.reason))
                continue
            body = json.loads(item.payload)
            del body["ts"]
            sent[(item.instrument, body["seq"])] = (body, item.faults)
    return sent, gaps


def test_silences_counted_in_updates_keep_two_instances_copies_of_each_other() -> None:
    faults = FaultConfig(
        **RATES,
        silence_updates=round(2.0 * 1e6 / PACE_US),
        jump_updates=round(1.0 * 1e6 / PACE_US),
    )
    primary, primary_gaps = instance(faults, clock_seed=1)
    replica, replica_gaps = instance(faults, clock_seed=2)
    reasons = Counter(reason for _, reason in primary_gaps)
    assert reasons["silence"] >= 3 and reasons["disconnect"] >= 3, f"too few gaps: {reasons}"
    assert primary_gaps == replica_gaps
    assert primary == replica


def test_a_restarted_instance_continues_the_venue_its_replica_still_runs() -> None:
    # Silences and disconnects counted in updates, as the service counts them at a set rate: one
    # counted in exchange time would not end while a restart steps at one exchange time.
    faults = FaultConfig(
        **RATES,
        silence_updates=round(2.0 * 1e6 / PACE_US),
        jump_updates=round(1.0 * 1e6 / PACE_US),
    )
    replica = Simulator(SimConfig(INSTRUMENTS, seed=7, faults=faults))
    sent = [replica.step(T0 + n) for n in range(UPDATES)]
    last: dict[str, int] = {}
    for items in sent:
        for item in items:
            if not isinstance(item, Gap) and (seq := json.loads(item.payload).get("seq")):
                last[item.instrument] = max(seq, last.get(item.instrument, 0))
    restarted = Simulator(SimConfig(INSTRUMENTS, seed=7, faults=faults))
    stepped = restarted.resume(last, T0, max_updates=10 * UPDATES)
    assert UPDATES - 3 <= stepped <= UPDATES  # the last updates of some instruments are silent
    assert restarted.fault_counts.total == 0
    # From there on it sends what the replica sent, numbered on from where the topic ended.
    ahead = [restarted.step(T0 + stepped + n) for n in range(2_000)]
    replica_again = Simulator(SimConfig(INSTRUMENTS, seed=7, faults=faults))
    expected = [replica_again.step(T0 + n) for n in range(stepped + 2_000)][stepped:]
    assert ahead == expected
    for items in ahead:
        for item in items:
            if not isinstance(item, Gap) and (seq := json.loads(item.payload).get("seq")):
                assert isinstance(seq, int) and seq > last[item.instrument] - 2, item


def test_a_restart_too_far_behind_renumbers_without_going_back() -> None:
    sim = Simulator(SimConfig(INSTRUMENTS, seed=7))
    assert sim.resume({"A": 10**9}, T0, max_updates=100) == 100
    sim.renumber({"A": 10**9})
    messages = [sim.next_message(T0) for _ in range(60)]
    seqs = [json.loads(m.payload)["seq"] for m in messages if m.instrument == "A"]
    assert seqs == list(range(10**9 + 1, 10**9 + 1 + len(seqs)))
    assert all(json.loads(m.payload)["seq"] < 200 for m in messages if m.instrument != "A")
