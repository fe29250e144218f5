"""The chaos run's verdicts: ticks lost or duplicated against the reference, hostile records not
accounted for, stalls and recoveries, memory growth; and the table that shows them. Pure."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

EXAMPLES = 5  # ticks or records a failed check names


def tick_identity(tick: Mapping[str, Any]) -> str:
    """What makes a stored tick one venue update: the ticks table's natural key (provider,
    instrument, kind, dedup key - the venue sequence for the simulator - and exchange time, us)."""
    return (
        f"{tick['provider']}|{tick['instrument']}|{tick['kind']}|{tick['dedup_key']}|"
        f"{tick['exchange_ts']}"
    )


@dataclass
class TickCheck:
    expected: int
    stored: int
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)  # stored more than once
    unexpected: list[str] = field(default_factory=list)  # stored, never made from the raw topic

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.unexpected)


def compare_ticks(expected: Counter[str], stored: Counter[str]) -> TickCheck:
    check = TickCheck(sum(expected.values()), sum(stored.values()))
    check.lost = sorted(k for k in expected if k not in stored)
    check.duplicated = sorted(k for k, n in stored.items() if n > 1)
    check.unexpected = sorted(k for k in stored if k not in expected)
    return check


def reused_sequences(stored: Counter[str]) -> list[str]:
    """Venue updates (provider, instrument, kind, sequence or trade id) stored under more than one
    exchange time: a feed that numbered two different moments alike, e.g. a venue restarted."""
    times: Counter[str] = Counter()
    for identity in stored:
        update, _ts = identity.rsplit("|", 1)
        if update.rsplit("|", 1)[1][:2] in ("s:", "t:"):
            times[update] += 1
    return sorted(u for u, n in times.items() if n > 1)


@dataclass
class HostileCheck:
    sent: int
    dead_lettered: int
    missing: list[str] = field(default_factory=list)  # sent, but no dead letter with a reason
    leaked: list[str] = field(default_factory=list)  # reached the ticks table
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.sent > 0 and not (self.missing or self.leaked)


def check_hostile(
    sent: Mapping[tuple[int, int], tuple[int, str]],
    dead_letters: Mapping[tuple[int, int], str],
    leaked_seqs: Iterable[int],
) -> HostileCheck:
    """`sent`: (partition, offset) -> (seq, kind) of each hostile record; `dead_letters`:
    (partition, offset) -> reason of the raw topic's dead letters; `leaked_seqs`: the hostile
    ingest sequences found among stored ticks."""
    check = HostileCheck(len(sent), 0)
    by_seq = {seq: kind for seq, kind in sent.values()}
    for where, (seq, kind) in sorted(sent.items()):
        reason = dead_letters.get(where)
        if reason:
            check.dead_lettered += 1
            check.reasons[reason] += 1
        else:
            check.missing.append(f"#{seq} ({kind}) at partition {where[0]} offset {where[1]}")
    check.leaked = [f"#{s} ({by_seq.get(s, '?')})" for s in sorted(set(leaked_seqs))]
    return check


def ages(samples: list[tuple[float, int | None]]) -> list[tuple[float, float]]:
    """(t, newest received_ts queryable, in seconds, or None while the database did not answer)
    -> (t, age of the newest queryable tick): while unanswered, the newest known keeps ageing."""
    out, newest = [], None
    for t, seen in samples:
        if seen is not None:
            newest = seen if newest is None else max(newest, seen)
        if newest is not None:
            out.append((t, max(0.0, t - newest)))
    return out


def recoveries(
    faults: Iterable[tuple[str, float]], samples: list[tuple[float, float | None]]
) -> dict[str, list[float | None]]:
    """kind -> for each fault, seconds from its end (the restart, the resume) until a tick the
    feed received after that end was queryable; None where none was before the run ended.
    `samples`: (t, newest queryable tick's receipt, on the same clock, or None)."""
    out: dict[str, list[float | None]] = {}
    for kind, ended in faults:
        back = next((t for t, seen in samples if seen is not None and seen >= ended), None)
        out.setdefault(kind, []).append(None if back is None else round(back - ended, 1))
    return out


def describe_recovery(times: list[float | None]) -> str:
    done = [t for t in times if t is not None]
    never = len(times) - len(done)
    if not done:
        return f"{len(times)} faults, none recovered"
    text = f"median {statistics.median(done):.1f} s, worst {max(done):.1f} s ({len(times)} faults)"
    return text + (f"; {never} never recovered" if never else "")


def memory_growth(samples: list[tuple[float, float]], span_s: float) -> tuple[float, float]:
    """(t, MiB) -> (peak in the first `span_s` seconds, peak in the last): growth shows as the
    second well above the first."""
    if not samples:
        return (0.0, 0.0)
    first_t, last_t = samples[0][0], samples[-1][0]
    early = [m for t, m in samples if t <= first_t + span_s] or [0.0]
    late = [m for t, m in samples if t >= last_t - span_s] or [0.0]
    return (max(early), max(late))


def render(rows: list[tuple[str, str, str]]) -> str:
    """A plain table: check | result | detail."""
    header = ("check", "result", "detail")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(2)]
    lines = [f"{header[0]:<{widths[0]}}  {header[1]:<{widths[1]}}  {header[2]}"]
    lines.append("-" * (widths[0] + widths[1] + 4 + max(len(r[2]) for r in [header, *rows])))
    lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in rows]
    return "\n".join(lines)


def names(items: list[str]) -> str:
    shown = ", ".join(items[:EXAMPLES])
    return shown + (f" and {len(items) - EXAMPLES} more" if len(items) > EXAMPLES else "")
