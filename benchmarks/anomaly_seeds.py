"""The return rule's spread across seeds: per seed and regime, the share of clean ticks flagged and
the spikes of 8 sigma or more caught as critical, with each such spike it missed described.

The feeds and faults are `anomaly_eval.py`'s; only the default price rule is judged.
Usage: python benchmarks/anomaly_seeds.py [--seeds 1-10] [--updates N] [--misses]"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from anomaly_eval import (
    REGIMES,
    T0,
    WARM_UP_US,
    Feed,
    faulty_config,
    flagged,
    judge,
    phases,
    priced,
    return_sigma,
    simulate,
)

from tickwire_ingest.domain.faults import FaultConfig

LARGE = ("spike 8", "spike 12")  # the sizes the 99 % target is set for


def parse_seeds(spec: str) -> list[int]:
    """'1-10' -> 1..10; '17,18' -> [17, 18]; the two combine: '1-3,17'."""
    seeds: list[int] = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        first, _, last = item.partition("-")
        seeds.extend(range(int(first), int(last or first) + 1))
    return seeds


def score(clean: Feed, faulty: Feed) -> dict[str, Any]:
    """The return rule's figures for one regime of one seed."""
    clean_found, faulty_found = judge(clean, "return"), judge(faulty, "return")
    ticks = priced(clean)
    criticals = {
        (a["instrument"], a["ts"]) for a in flagged(faulty_found, "return_zscore", "critical")
    }
    warnings = {
        (a["instrument"], a["ts"]): a for a in flagged(faulty_found, "return_zscore", "warning")
    }
    large = [key for key, label in faulty.labels.items() if label in LARGE]
    misses = []
    for key in sorted(set(large) - criticals, key=lambda k: k[1]):
        found = warnings.get(key)
        tick = next(t for t in faulty.ticks if (t["instrument"], t["exchange_ts"]) == key)
        misses.append(
            f"{faulty.labels[key]} {tick['kind']} {key[0]} at "
            f"{(key[1] - T0) / 1e6:.1f} s: "
            + (f"warning z {found['value']:+.2f}" if found else "not flagged")
        )
    return {
        "warn": len(flagged(clean_found, "return_zscore", "warning")) / ticks,
        "crit": len(flagged(clean_found, "return_zscore", "critical")) / ticks,
        "caught": len(set(large) & criticals),
        "large": len(large),
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-10", help="e.g. 1-10 or 17,18")
    parser.add_argument("--updates", type=int, default=60_000, help="per regime and run")
    parser.add_argument("--misses", action="store_true", help="describe each missed spike")
    args = parser.parse_args()
    started = time.monotonic()
    print(
        f"{'seed':>4} {'regime':9} {'clean warnings':>14} {'clean criticals':>15} "
        f"{'>= 8 sigma critical':>19}"
    )
    recalls: dict[str, list[float]] = {regime: [] for regime in REGIMES}
    caught = large = 0
    worst = {"warn": 0.0, "crit": 0.0}
    for seed in parse_seeds(args.seeds):
        for regime in REGIMES:
            clean = simulate(regime, args.updates, seed, FaultConfig(), [])
            sigmas = [return_sigma(clean, a, b) for a, b, _, _ in phases(regime, args.updates)]
            faulty = simulate(regime, args.updates, seed, faulty_config(), sigmas)
            figures = score(clean, faulty)
            recall = figures["caught"] / figures["large"]
            recalls[regime].append(recall)
            caught, large = caught + figures["caught"], large + figures["large"]
            worst = {k: max(worst[k], figures[k]) for k in worst}
            print(
                f"{seed:>4} {regime:9} {figures['warn']:>14.2%} {figures['crit']:>15.3%} "
                f"{recall:>12.1%} ({figures['caught']}/{figures['large']})",
                flush=True,
            )
            if args.misses:
                for miss in figures["misses"]:
                    print(f"{'':15}missed: {miss}")
    for regime, values in recalls.items():
        print(
            f"{regime:9} >= 8 sigma critical: min {min(values):.1%}, "
            f"median {statistics.median(values):.1%}, max {max(values):.1%}"
        )
    print(
        f"all: {caught}/{large} = {caught / large:.2%} of spikes >= 8 sigma critical; worst clean "
        f"warnings {worst['warn']:.2%}, criticals {worst['crit']:.3%} (scored after "
        f"{WARM_UP_US / 1e6:g} s)\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()} "
        f"({platform.machine()}, Python {platform.python_version()}), "
        f"{time.monotonic() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
