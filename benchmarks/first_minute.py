"""What the first minute of `make run` shows: the simulator's default feed, faults included,
through normalize and the signals engine in process, by rule and severity against the faults.

Reads the ingest settings from the environment as the service does (TICKWIRE_SIM_*), at the
service's rate; each anomaly is matched to the fault injected at its instrument and time, if any.
Usage: python benchmarks/first_minute.py [--seconds 60]"""

from __future__ import annotations

import argparse
import json
import zlib
from collections import Counter

from anomaly_eval import Feed, gap_record, judge, raw_record, target_of

from tickwire_core.settings import load_settings
from tickwire_core.topics import tick_key
from tickwire_ingest.connectors import fault_config
from tickwire_ingest.domain.events import SILENCE, Gap
from tickwire_ingest.domain.sequence import SequenceTracker
from tickwire_ingest.domain.simulator import SimConfig, Simulator
from tickwire_ingest.settings import IngestSettings
from tickwire_normalize.domain.normalize import normalize

T0 = 1_800_000_000_000_000
TICK_PARTITIONS = 6  # the ticks topic's, keyed provider|instrument by librdkafka's CRC32 default


def run(settings: IngestSettings, seconds: float) -> None:
    faults = fault_config(settings)
    sim = Simulator(
        SimConfig(
            settings.sim_instrument_specs(),
            seed=settings.sim_seed,
            trade_probability=settings.sim_trade_probability,
            faults=faults,
        )
    )
    tracker = SequenceTracker()
    # A feed "as fast as possible" (rate 0) is timed here at the default rate: only the spacing
    # of exchange times matters to the rules, and a minute needs a number of updates.
    rate = settings.sim_rate or 200.0
    spacing = round(1e6 / rate)
    feed = Feed()
    rejects: Counter[str] = Counter()
    seq = 0
    for i in range(round(seconds * rate)):
        ts = T0 + i * spacing
        raws = []
        for item in sim.step(ts):
            seq += 1
            if isinstance(item, Gap):
                raws.append((gap_record(item, seq), ()))
                continue
            _new, gap = tracker.check(item.instrument, json.loads(item.payload)["seq"], ts, "")
            if gap is not None:
                seq += 1
                raws.append((gap_record(gap, seq), ()))
            raw = raw_record(item.feed, item.instrument, item.payload, ts, seq, "application/json")
            raws.append((raw, item.faults))
        for raw, injected in raws:
            normalized = normalize(raw)
            rejects.update(r.reason for r in normalized.rejects)
            for tick in normalized.ticks:
                feed.ticks.append(tick)
                if tick["kind"] == "gap" and tick["gap_reason"] == SILENCE:
                    stretch = (tick["instrument"], tick["exchange_ts"], tick["gap_end_ts"])
                    feed.silences.append(stretch)
                elif injected:
                    feed.labels[(tick["instrument"], tick["exchange_ts"])] = "+".join(injected)
    # The service judges each partition of the ticks topic with a clock of its own (stale quotes
    # and bar closing compare event times within a partition only), so the benchmark does too.
    partitions: dict[int, Feed] = {}
    for tick in feed.ticks:
        key = tick_key(tick["provider"], tick["instrument"])
        partitions.setdefault(zlib.crc32(key) % TICK_PARTITIONS, Feed()).ticks.append(tick)
    anomalies = [a for part in partitions.values() for a in judge(part, "return")]
    priced = sum(1 for t in feed.ticks if t["kind"] != "gap")
    print(
        f"{seconds:g} s at {rate:g} updates/s, seed {settings.sim_seed}: "
        f"{priced} ticks; faults injected: {sim.fault_counts.as_dict()}"
    )
    print(f"refused by normalize: {dict(rejects) or 'none'}")
    found: Counter[tuple[str, str, str]] = Counter()
    for anomaly in anomalies:
        target = target_of(anomaly, feed)
        found[(anomaly["rule"], anomaly["severity"], target or "clean")] += 1
    print(f"{'rule':15} {'severity':9} {'found':>6}  on")
    for (rule, severity, target), n in sorted(found.items()):
        print(f"{rule:15} {severity:9} {n:>6}  {target} ({n / priced:.3%} of ticks)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    settings = load_settings(IngestSettings, KAFKA_BOOTSTRAP_SERVERS="unused:9092")
    run(settings, args.seconds)


if __name__ == "__main__":
    main()
