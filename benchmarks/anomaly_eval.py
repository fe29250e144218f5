"""Precision and recall of the anomaly rules on the simulator's feed with labelled faults, per rule
and severity, and the share of a clean feed's ticks each rule flags, for each price rule method.

In process, no Kafka: simulator -> sequence check -> normalize -> the signals engine and its
provider clock, as the services chain them (every rule judges one instrument at a time, so how
the service's partitions split the instruments does not change what it finds). Three regimes
(quiet; trending; a volatility burst of 4x for a fifth of the run), each run twice with one seed:
clean, then with faults (spikes of 3, 5, 8 and 12 sigma, crossed books, 15 s silences, sequence
gaps, and 2 s disconnects across which the price jumps 25, 100 or 400 bps). Sigma is the
standard deviation of the clean run's tick-to-tick log return of each instrument's prices (mids
and trades as the engine sees them) in the same stretch of the regime, averaged over instruments.
Last, the venues' documented example messages (anomaly_venues.py).
Usage: python benchmarks/anomaly_eval.py [--updates N] [--seed S]"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import platform
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from anomaly_venues import report as report_venues

from tickwire_ingest.domain.events import SEQUENCE, SILENCE, Gap
from tickwire_ingest.domain.faults import FaultConfig
from tickwire_ingest.domain.sequence import SequenceTracker
from tickwire_ingest.domain.simulator import SimConfig, SimMessage, Simulator, parse_instruments
from tickwire_normalize.domain.gaps import GAP_CONTENT_TYPE
from tickwire_normalize.domain.normalize import normalize
from tickwire_normalize.domain.reasons import CROSSED_MARKET
from tickwire_signals.domain import Emitted, SignalEngine, SignalsConfig
from tickwire_signals.domain.clock import ProviderClock
from tickwire_signals.domain.config import ZScoreParams

T0 = 1_800_000_000_000_000
SPACING_US = 5_000  # 200 updates a second over all instruments, as `make run` sends them
# Scored from here on: a running service restores its rules' memory from the changelog, so it
# warms up once per instrument, not once per run.
WARM_UP_US = 30_000_000
INSTRUMENTS = parse_instruments("SIM-BTC-USD:65000,SIM-ETH-USD:3500:0.05,SIM-SOL-USD:150:0.01")
SPIKE_SIGMAS = (3, 5, 8, 12)
# Moves across an injected disconnect, in bps: below gap_jump's warning (50), between it and the
# critical (200), and beyond.
JUMP_BPS = (25, 100, 400)
# (share of the run, volatility per update, drift per update)
REGIMES: dict[str, list[tuple[float, float, float]]] = {
    "quiet": [(1.0, 1e-4, 0.0)],
    "trending": [(1.0, 2e-4, 2e-5)],
    "burst": [(0.4, 2e-4, 0.0), (0.2, 8e-4, 0.0), (0.4, 2e-4, 0.0)],
}
PRICE_RULES = {"level": "zscore", "return": "return_zscore"}
TARGETS = {  # (rule family, severity): the clean-feed share of ticks flagged at most
    ("price", "warning"): 0.015,
    ("price", "critical"): 0.0005,
    # A healthy feed has no stale quote and no jump across a gap.
    ("stale_quote", "warning"): 0.0,
    ("gap_jump", "warning"): 0.0,
    ("gap_jump", "critical"): 0.0,
}


@dataclass
class Feed:
    """Normalized ticks in order, and what was injected where: labels by (instrument, ts)."""

    ticks: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[tuple[str, int], str] = field(default_factory=dict)
    silences: list[tuple[str, int, int]] = field(default_factory=list)  # instrument, start, end
    injected: Counter[str] = field(default_factory=Counter)
    rejected_crossed: int = 0  # crossed books normalize refused as such
    jumps: dict[str, float] = field(default_factory=dict)  # a disconnect's move, until priced


def phases(regime: str, updates: int) -> list[tuple[int, int, float, float]]:
    """(first update, end update, volatility, drift) of each stretch of the regime."""
    out, start = [], 0
    for share, vol, drift in REGIMES[regime]:
        end = start + round(share * updates)
        out.append((start, end, vol, drift))
        start = end
    return out


def simulate(
    regime: str, updates: int, seed: int, faults: FaultConfig, sigmas: list[float]
) -> Feed:
    """`sigmas`: each phase's sigma, which sizes its spikes (none where faults inject none)."""
    sim = Simulator(SimConfig(INSTRUMENTS, seed=seed, faults=faults))
    tracker = SequenceTracker()
    feed = Feed()
    stretches = phases(regime, updates)
    seq, sigma = 0, 0.0
    for i in range(updates):
        for n, (begin, _, vol, drift) in enumerate(stretches):
            if i == begin:  # the simulator reads its market and spike sizes at every update
                sigma = sigmas[n] if sigmas else 0.0
                if sigma:
                    sizes = tuple(k * sigma for k in SPIKE_SIGMAS)
                    faults = replace(faults, spike_sizes=sizes)
                sim.config = replace(
                    sim.config, volatility_per_tick=vol, drift_per_tick=drift, faults=faults
                )
        ts = T0 + i * SPACING_US
        for item in sim.step(ts):
            seq += 1
            if isinstance(item, Gap):
                _add(feed, gap_record(item, seq), None, sigma)
                continue
            body = json.loads(item.payload)
            _new, gap = tracker.check(item.instrument, body["seq"], ts, item.instrument)
            if gap is not None:
                seq += 1
                _add(feed, gap_record(gap, seq), None, sigma)
            raw = raw_record(item.feed, item.instrument, item.payload, ts, seq, "application/json")
            _add(feed, raw, item, sigma)
    return feed


def raw_record(feed: str, instrument: str, payload: bytes, ts: int, seq: int, kind: str) -> dict:
    return {
        "provider": "simulator",
        "feed": feed,
        "instrument": instrument,
        "payload": payload,
        "received_ts": ts,
        "ingest_instance": "eval",
        "ingest_seq": seq,
        "content_type": kind,
    }


def gap_record(gap: Gap, seq: int) -> dict:
    return raw_record("gap", gap.instrument, gap.payload(), gap.end_ts, seq, GAP_CONTENT_TYPE)


def _add(feed: Feed, raw: dict, message: SimMessage | None, sigma: float) -> None:
    normalized = normalize(raw)
    scored = raw["received_ts"] >= T0 + WARM_UP_US
    if message is not None and message.jump:
        # The jump is found at the first price normalize passes after the disconnect.
        feed.jumps[message.instrument] = message.jump
    if message is not None and "crossed" in message.faults and scored:
        # Normalize refuses a crossed book (reason crossed_market): it never reaches signals.
        feed.injected["crossed"] += 1
        feed.rejected_crossed += sum(r.reason == CROSSED_MARKET for r in normalized.rejects)
    for tick in normalized.ticks:
        feed.ticks.append(tick)
        key = (tick["instrument"], tick["exchange_ts"])
        if not scored:
            if tick["kind"] != "gap":
                feed.jumps.pop(tick["instrument"], None)
            continue
        if tick["kind"] == "gap":
            if tick["gap_reason"] == SILENCE:
                feed.silences.append((tick["instrument"], tick["exchange_ts"], tick["gap_end_ts"]))
            reason = tick["gap_reason"]
            if reason in (SILENCE, SEQUENCE):
                feed.injected["silence" if reason == SILENCE else "gap"] += 1
        elif tick["instrument"] in feed.jumps:
            bps = round(abs(feed.jumps.pop(tick["instrument"])) * 1e4)
            feed.labels[key] = f"jump {bps}"
            feed.injected[f"jump {bps}"] += 1
        elif message is not None and message.spike:
            size = min(SPIKE_SIGMAS, key=lambda k: abs(abs(message.spike) - k * sigma))
            feed.labels[key] = f"spike {size}"
            feed.injected[f"spike {size}"] += 1


def price_of(tick: dict[str, Any]) -> float | None:
    if tick.get("bid_price") is not None and tick.get("ask_price") is not None:
        return float(tick["bid_price"] + tick["ask_price"]) / 2
    return tick.get("last_traded_price")


def return_sigma(feed: Feed, first: int, end: int) -> float:
    """Sigma of the updates first..end of a clean feed."""
    by_instrument: dict[str, list[float]] = defaultdict(list)
    for tick in feed.ticks:
        price = price_of(tick)
        if (
            price is not None
            and T0 + first * SPACING_US <= tick["exchange_ts"] < T0 + end * SPACING_US
        ):
            by_instrument[tick["instrument"]].append(price)
    return statistics.fmean(
        statistics.pstdev(math.log(b / a) for a, b in itertools.pairwise(p))
        for p in by_instrument.values()
    )


def judge(feed: Feed, method: str) -> list[dict[str, Any]]:
    """Every anomaly the engine and its clock emit for the feed, as the service would."""
    engine = SignalEngine(SignalsConfig(zscore=ZScoreParams(method=method)))
    clock = ProviderClock(engine)
    out = Emitted()
    for tick in feed.ticks:
        key = tick["instrument"].encode()
        state = clock.states.get(key)
        if state is None:
            state = engine.new_state(tick["provider"], tick["instrument"])
            clock.add(key, state)
        engine.apply(state, tick, out)
        clock.move(key, tick["exchange_ts"], out)
        out.bars.clear()
        out.signals.clear()
    return out.anomalies


def target_of(anomaly: dict[str, Any], feed: Feed) -> str | None:
    """The injected fault an anomaly found, or None for a false alarm."""
    if anomaly["rule"] == "stale_quote":
        hit = any(
            i == anomaly["instrument"] and start <= anomaly["ts"] <= end
            for i, start, end in feed.silences
        )
        return "silence" if hit else None
    return feed.labels.get((anomaly["instrument"], anomaly["ts"]))


def flagged(anomalies: list[dict[str, Any]], rule: str, severity: str) -> list[dict[str, Any]]:
    wanted = ("critical",) if severity == "critical" else ("warning", "critical")
    return [
        a
        for a in anomalies
        if a["rule"] == rule and a["severity"] in wanted and a["ts"] >= T0 + WARM_UP_US
    ]


def priced(feed: Feed) -> int:
    return sum(1 for t in feed.ticks if t["kind"] != "gap" and t["exchange_ts"] >= T0 + WARM_UP_US)


def report(method: str, runs: dict[str, tuple[Feed, Feed]]) -> None:
    price_rule = PRICE_RULES[method]
    rules = [price_rule, "crossed_market", "stale_quote", "gap_jump"]
    print(f"\nprice rule: {price_rule} (method {method})")
    print(
        f"{'regime':9} {'rule':15} {'severity':9} {'clean flagged':>14} {'target':>8} "
        f"{'precision':>9} {'recall':>7}  recall by fault"
    )
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for regime, (clean, faulty) in runs.items():
        clean_found, faulty_found = judge(clean, method), judge(faulty, method)
        for rule in rules:
            for severity in ("warning", "critical"):
                share = len(flagged(clean_found, rule, severity)) / priced(clean)
                found = flagged(faulty_found, rule, severity)
                hits = Counter(target_of(a, faulty) for a in found)
                true = sum(n for kind, n in hits.items() if kind is not None)
                targets = _targets(rule, faulty)
                injected = sum(faulty.injected[k] for k in targets)
                by_fault = "  ".join(
                    f"{k}: {hits[k] / faulty.injected[k]:.1%}"
                    for k in targets
                    if faulty.injected[k]
                )
                family = "price" if rule == price_rule else rule
                target = TARGETS.get((family, severity))
                totals[(rule, severity)][0] += len(flagged(clean_found, rule, severity))
                totals[(rule, severity)][1] += priced(clean)
                print(
                    f"{regime:9} {rule:15} {severity:9} {share:>14.3%} "
                    f"{'' if target is None else f'<={target:.2%}':>8} "
                    f"{_ratio(true, len(found)):>9} {_ratio(true, injected):>7}  {by_fault}"
                )
    for regime, (_, faulty) in runs.items():
        print(
            f"{regime:9} crossed books: {faulty.injected['crossed']} injected, "
            f"{_ratio(faulty.rejected_crossed, faulty.injected['crossed'])} refused by normalize "
            "as crossed_market"
        )
    for (rule, severity), (n, ticks) in totals.items():
        if n:
            print(f"{'all':9} {rule:15} {severity:9} {n / ticks:>14.3%}  ({n} of {ticks} ticks)")


def _targets(rule: str, feed: Feed) -> list[str]:
    if rule == "crossed_market":
        return []  # normalize refuses every crossed book first: see the line per regime below
    if rule == "stale_quote":
        return ["silence"]
    if rule == "gap_jump":
        return [f"jump {bps}" for bps in JUMP_BPS]
    return [f"spike {k}" for k in SPIKE_SIGMAS]


def faulty_config() -> FaultConfig:
    """The faults of a faulty run; spike sizes are set per stretch of the regime."""
    return FaultConfig(
        spike=0.01,
        crossed=0.002,
        silence=0.0001,
        silence_s=15.0,
        gap=0.0005,
        jump=0.0005,
        jump_sizes=tuple(bps / 1e4 for bps in JUMP_BPS),
        jump_s=2.0,
    )


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=60_000, help="per regime and run")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    started = time.monotonic()
    runs: dict[str, tuple[Feed, Feed]] = {}
    for regime in REGIMES:
        clean = simulate(regime, args.updates, args.seed, FaultConfig(), [])
        sigmas = [return_sigma(clean, a, b) for a, b, _, _ in phases(regime, args.updates)]
        faulty = simulate(regime, args.updates, args.seed, faulty_config(), sigmas)
        runs[regime] = (clean, faulty)
        injected = ", ".join(f"{k} {n}" for k, n in sorted(faulty.injected.items()))
        shown = " / ".join(f"{sigma * 1e4:.2f}" for sigma in sigmas)
        print(
            f"{regime}: {priced(clean)} clean ticks scored, sigma {shown} bps; injected: {injected}"
        )
    for method in PRICE_RULES:
        report(method, runs)
    report_venues()
    print(
        f"\ntargets: clean warnings <= 1.5 %, criticals <= 0.05 % of ticks; spikes >= 8 sigma "
        f"critical >= 99 %; crossed books 100 %.\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.node()} ({platform.machine()}, Python {platform.python_version()}), "
        f"{time.monotonic() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
