"""The chaos run's table: what it gathered (the reference, the database's rows, the watch's samples,
the faults undone) turned into checks that pass or fail and figures that are measured."""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from chaos_burst import BurstVenue
from chaos_checks import (
    ages,
    check_hostile,
    compare_ticks,
    describe_recovery,
    memory_growth,
    names,
    recoveries,
    render,
    reused_sequences,
)
from chaos_quality import QualityCheck, quality_rows
from chaos_reference import Reference
from chaos_schedule import KINDS, Plan
from chaos_signals import RunOutputs, signals_rows
from chaos_watch import HostileFeed, Watch


@dataclass
class Gathered:
    args: argparse.Namespace
    plan: Plan
    work: Path
    load_end: float = 0.0  # monotonic
    settle_s: float = 0.0
    undelivered: int = 0  # hostile records the producer never got onto the topic
    restarts: dict[str, int] = field(default_factory=dict)
    kills: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    scheduled: Counter[str] = field(default_factory=Counter)  # kind -> faults scheduled
    applied: Counter[str] = field(default_factory=Counter)
    feed: HostileFeed | None = None
    burst: BurstVenue | None = None
    reference: Reference | None = None
    ticks: Counter[str] = field(default_factory=Counter)
    dead: dict[tuple[int, int], str] = field(default_factory=dict)
    leaked: list[int] = field(default_factory=list)
    watch: Watch | None = None
    ended: list[tuple[str, float]] = field(default_factory=list)
    outputs: RunOutputs | None = None  # the signals service's bars and anomalies
    quality: QualityCheck | None = None
    hanging: list[str] = field(default_factory=list)  # hanging transactions on the broker


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(g: Gathered) -> tuple[str, bool]:
    """The table, and whether every check passed."""
    rows: list[tuple[str, str, str]] = []
    ok = g.reference is not None and g.feed is not None
    if g.reference is not None:
        ref = g.reference
        ticks = compare_ticks(ref.ticks, g.ticks)
        ok &= ticks.ok
        detail = (
            f"{ticks.expected:,} ticks made from {ref.records:,} raw records "
            f"({ref.copies:,} dropped as copies by the dedup window), {ticks.stored:,} rows: "
            f"{len(ticks.lost):,} lost, {len(ticks.duplicated):,} duplicated, "
            f"{len(ticks.unexpected):,} unexpected"
        )
        for what, items in (
            ("lost", ticks.lost),
            ("duplicated", ticks.duplicated),
            ("unexpected", ticks.unexpected),
        ):
            if items:
                detail += f"; {what}: {names(items)}"
        rows.append(("every tick stored exactly once", _mark(ticks.ok), detail))
        reused = reused_sequences(g.ticks)
        rows.append(
            (
                "venue sequences at two exchange times",
                "measured",
                f"{len(reused):,} (0 expected: a restarted simulator continues its sequences)"
                + (f": {names(reused)}" if reused else ""),
            )
        )
        missing = sorted(set(ref.refused) - set(g.dead))
        extra = sorted(set(g.dead) - set(ref.refused))
        same = not missing and not extra
        ok &= same
        rows.append(
            (
                "dead letters as the reference",
                _mark(same),
                f"{len(ref.refused):,} refused by the reference, {len(g.dead):,} dead letters; "
                f"{len(missing)} missing, {len(extra)} unexpected"
                + (f"; missing {names([f'{p}/{o}' for p, o in missing])}" if missing else "")
                + (f"; unexpected {names([f'{p}/{o}' for p, o in extra])}" if extra else ""),
            )
        )
        if ref.hostile_ticks:
            ok = False
            seqs = [f"#{s}" for s in sorted(ref.hostile_ticks.values())]
            rows.append(("hostile records refused", "FAIL", f"made ticks: {names(seqs)}"))
    if g.feed is not None:
        hostile = check_hostile(g.feed.sent, g.dead, g.leaked)
        delivered = not g.feed.failed and g.undelivered == 0
        ok &= hostile.ok and delivered
        reasons = ", ".join(f"{r} {n:,}" for r, n in hostile.reasons.most_common())
        detail = (
            f"{hostile.sent:,} sent, {hostile.dead_lettered:,} dead letters with a reason "
            f"({reasons}), {len(hostile.leaked)} in ticks"
        )
        if hostile.missing:
            detail += f"; no dead letter: {names(hostile.missing)}"
        if hostile.leaked:
            detail += f"; stored as ticks: {names(hostile.leaked)}"
        if not delivered:
            detail += f"; not delivered: {g.undelivered + len(g.feed.failed)}"
        rows.append(("hostile records dead-lettered", _mark(hostile.ok and delivered), detail))
    # A soak run gathers none of these: it measures, the chaos run checks.
    checked = []
    if g.reference is not None and g.outputs is not None:
        checked.append(signals_rows(g.reference.ordered, g.outputs))
    if g.quality is not None:
        checked.append(quality_rows(g.quality))
    for more, passed in checked:
        rows += more
        ok &= passed
    if g.reference is not None:
        ok &= not g.hanging
        rows.append(
            (
                "no transaction left hanging",
                _mark(not g.hanging),
                f"{len(g.hanging)} open on the broker with their coordinator done, read_committed "
                "readers held at their offset (find-hanging after the run and after each restart)"
                + (f": {names(g.hanging)}" if g.hanging else ""),
            )
        )
    rows += _figures(g)
    return render(rows), ok


def _figures(g: Gathered) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    if g.watch is None:
        return rows
    during = [(t, n) for t, n in g.watch.newest if t <= g.load_end]
    aged = ages(during)
    if aged:
        worst_t, worst = max(aged, key=lambda a: a[1])
        start = aged[0][0]
        rows.append(
            (
                "longest stall, tick -> queryable",
                "measured",
                f"{worst:.1f} s (the newest stored tick's age, sampled every second; "
                f"worst at {worst_t - start:.0f} s into the load)",
            )
        )
    # Through the drain as well: a fault near the load's end recovers once its backlog is stored.
    by_kind = recoveries(g.ended, g.watch.newest)
    for kind in KINDS:
        if kind in by_kind:
            rows.append(
                (
                    f"recovery: {kind}",
                    "measured",
                    describe_recovery(by_kind[kind])
                    + "; from the restart (or resume) until a tick received after it is "
                    "queryable",
                )
            )
    for name in sorted(g.watch.memory):
        samples = g.watch.memory[name]
        early, late = memory_growth(samples, 60.0)
        peak = max(m for _, m in samples)
        rows.append(
            (
                f"peak RSS: {name}",
                "measured",
                f"{peak:,.0f} MiB (first minute's peak {early:,.0f}, last minute's {late:,.0f})",
            )
        )
    restarts = ", ".join(
        f"{n} {g.restarts.get(n, 0)} ({g.kills.get(n, 0)} killed)" for n in sorted(g.restarts)
    )
    rows.append(("restarts by the supervisor", "measured", restarts))
    applied = ", ".join(
        f"{kind} {g.applied[kind]} of {g.scheduled[kind]}" for kind in KINDS if g.scheduled[kind]
    )
    rows.append(
        (
            "faults applied",
            "measured",
            f"{applied}; {g.skipped} postponed a second as their target was down",
        )
    )
    if g.burst is not None:
        rows.append(("burst of 10x the rate", "measured", g.burst.describe(g.args.rate)))
    rows.append(("settled after the load", "measured", f"{g.settle_s:.0f} s"))
    return rows
