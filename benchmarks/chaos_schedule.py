"""The chaos run's faults as a seeded schedule: which fault, on what, when, for how long. Pure: the
same seed and plan give the same schedule, so a failed run can be replayed fault for fault."""

from __future__ import annotations

import random
from dataclasses import dataclass

# What a kill -9 may hit: every service the local run starts, the replica included.
SERVICES = ("ingest", "ingest-replica", "normalize", "signals", "sink", "api")
# Consumers whose group session a SIGSTOP can outlast (ingest and the API consume nothing).
CONSUMERS = ("normalize", "signals", "sink")

KILL = "kill -9 of a service"
BROKER = "kill -9 of the broker"
DATABASE = "PostgreSQL stopped"
PAUSE = "SIGSTOP of a consumer"
SLOW = "one normalize of two slowed"
BURST = "a burst of 10x the rate"
KINDS = (KILL, BROKER, DATABASE, PAUSE, SLOW, BURST)
# A second normalize in normalize's group owns half the raw topic's partitions: slowing it
# slows the consumer of those partitions alone.
SLOW_CONSUMER = "normalize-b"
BURST_FACTOR = 10


@dataclass(frozen=True)
class Fault:
    at_s: float  # seconds after the load started
    kind: str  # one of KINDS
    target: str  # a service name, "broker", "database", SLOW_CONSUMER or "raw topic"
    hold_s: float  # down (or paused) this long, then restarted (or resumed)

    @property
    def ends_s(self) -> float:
        return self.at_s + self.hold_s


@dataclass(frozen=True)
class Plan:
    duration_s: float
    kills_per_service: int
    kill_hold_s: tuple[float, float]  # a killed service is restarted after this many seconds
    broker_kills: int
    broker_hold_s: tuple[float, float]
    database_stop_s: float
    pause_s: float  # past the consumers' 10 s session timeout
    warmup_s: float  # no fault before the pipeline has flowed for this long
    cooldown_s: float  # nor in the last stretch: every fault is over before the load ends
    slow_s: float  # one normalize of two stopped for most of every second this long
    burst_s: float  # the raw topic gets BURST_FACTOR times the rate this long
    # The broker's kills first: its restart (a minute and more on a busy 2-core machine) then
    # overlaps the rest of the load instead of making the run longer.
    broker_first: bool = False

    @classmethod
    def long(cls, duration_s: float = 600.0) -> Plan:
        return cls(duration_s, 20, (1.0, 8.0), 3, (2.0, 10.0), 60.0, 25.0, 20.0, 60.0, 40.0, 10.0)

    @classmethod
    def short(cls, duration_s: float = 100.0) -> Plan:
        # The CI version: every kind of fault at least once, each service killed twice.
        return cls(
            duration_s, 2, (1.0, 4.0), 1, (2.0, 4.0), 10.0, 12.0, 10.0, 15.0, 10.0, 5.0, True
        )


def schedule(seed: int, plan: Plan) -> list[Fault]:
    """Every fault of a run, by start time. Each service's kills fall one to a slot of equal
    length, so a service is up again before its next kill; the broker's kills, the database stop
    and the pause each get a slot of their own, so their recoveries can be told apart."""
    rng = random.Random(seed)
    begin, end = plan.warmup_s, plan.duration_s - plan.cooldown_s
    if end <= begin:
        raise ValueError(f"a {plan.duration_s:g} s run leaves no time for faults")
    faults: list[Fault] = []
    if plan.kills_per_service:
        slot = (end - begin) / plan.kills_per_service
        for service in SERVICES:
            for i in range(plan.kills_per_service):
                hold = min(rng.uniform(*plan.kill_hold_s), slot / 2)
                at = begin + i * slot + rng.uniform(0, slot - hold)
                faults.append(Fault(round(at, 3), KILL, service, round(hold, 3)))
    infrastructure = [(BROKER, "broker", None)] * plan.broker_kills
    infrastructure += [(DATABASE, "database", plan.database_stop_s)]
    infrastructure += [(PAUSE, rng.choice(CONSUMERS), plan.pause_s)]
    # Drawn after the others, so that a seed's earlier faults stay what they were.
    infrastructure += [(SLOW, SLOW_CONSUMER, plan.slow_s), (BURST, "raw topic", plan.burst_s)]
    rng.shuffle(infrastructure)
    if plan.broker_first:
        infrastructure.sort(key=lambda fault: fault[0] != BROKER)  # stable: the rest keep order
    slot = (end - begin) / len(infrastructure)
    for i, (kind, target, fixed) in enumerate(infrastructure):
        hold = min(fixed if fixed is not None else rng.uniform(*plan.broker_hold_s), slot)
        at = begin + i * slot + rng.uniform(0, slot - hold)
        faults.append(Fault(round(at, 3), kind, target, round(hold, 3)))
    return sorted(faults, key=lambda f: (f.at_s, f.kind, f.target))
