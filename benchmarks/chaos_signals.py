"""The chaos run's signals check: the reference's ticks through the signals service's own handler
and engine in-process, undisturbed, against the bars and anomalies the disturbed run stored."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from chaos_checks import names
from topic_end import batches_to_end

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import ANOMALIES, BARS
from tickwire_signals.domain.engine import SignalEngine
from tickwire_signals.handler import SignalsHandler, TickEvent
from tickwire_signals.settings import SignalsSettings
from tickwire_signals.settings_rules import config_from_rules

Key = tuple[Any, ...]
BAR_FIELDS = ("open", "high", "low", "close", "volume", "tick_count", "source", "revision")
ANOMALY_FIELDS = (
    "severity",
    "value",
    "threshold",
    "window_mean",
    "window_stddev",
    "window_count",
    "detail",
)
_BATCH = SignalsSettings.model_fields["batch_size"].default


def bar_key(record: Mapping[str, Any]) -> Key:
    """The bars table's natural key."""
    return (record["provider"], record["instrument"], record["interval"], record["start_ts"])


def anomaly_key(record: Mapping[str, Any]) -> Key:
    """The anomalies table's natural key (one judgement of a rule on a tick)."""
    return (record["provider"], record["instrument"], record["rule"], record["ts"])


def corrects(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """`new` is a correction of `old` (docs/signals.md, confirmed moves): a bar of a higher
    revision, or a critical judgement confirmed as a move. The tables keep the correction."""
    if "revision" in new:
        return int(new["revision"]) > int(old.get("revision", 0))
    return new.get("severity") == "confirmed" and old.get("severity") == "critical"


@dataclass
class Judged:
    """What the signals service makes of a run's ticks: bars and anomalies by natural key (the
    first made of a key, or its correction, as the tables keep them), and keys made more than
    once otherwise."""

    bars: dict[Key, dict[str, Any]] = field(default_factory=dict)
    anomalies: dict[Key, dict[str, Any]] = field(default_factory=dict)
    repeated: int = 0
    ticks: int = 0


def judge(ordered: Mapping[int, list[tuple[bytes, dict[str, Any]]]]) -> Judged:
    """The ticks of each partition, in order, through the service's handler with its default
    rules, in batches of its default size; offsets are positions in the partition."""
    serde = AvroSerde()
    handler = SignalsHandler(SignalEngine(config_from_rules({})), serde, lambda _key: None)
    judged = Judged()
    for partition in sorted(ordered):
        ticks = ordered[partition]
        for start in range(0, len(ticks), _BATCH):
            events = [
                TickEvent(key, serde.encode("tick", tick), partition, start + i)
                for i, (key, tick) in enumerate(ticks[start : start + _BATCH])
            ]
            judged.ticks += len(events)
            emitted = handler(events).emitted
            for found, records, key_of in (
                (judged.bars, emitted.bars, bar_key),
                (judged.anomalies, emitted.anomalies, anomaly_key),
            ):
                for record in records:
                    earlier = found.get(key_of(record))
                    if earlier is None or corrects(record, earlier):
                        found[key_of(record)] = record
                    else:
                        judged.repeated += 1
    return judged


_US = "((extract(epoch FROM {0}) * 1000000)::bigint)"


def stored_outputs(url: str) -> Judged:
    """The bars and anomalies the run's database holds (the sink keeps a key's first row)."""
    judged = Judged()
    with psycopg.connect(url, autocommit=True) as conn:
        bars = conn.execute(
            f'SELECT provider, instrument, "interval", {_US.format("start_ts")}, '
            + ", ".join(BAR_FIELDS)
            + " FROM bars"
        )
        for row in bars:
            judged.bars[tuple(row[:4])] = dict(zip(BAR_FIELDS, row[4:], strict=True))
        anomalies = conn.execute(
            f"SELECT provider, instrument, rule, {_US.format('ts')}, "
            + ", ".join(ANOMALY_FIELDS)
            + " FROM anomalies"
        )
        for row in anomalies:
            judged.anomalies[tuple(row[:4])] = dict(zip(ANOMALY_FIELDS, row[4:], strict=True))
    return judged


@dataclass
class Published:
    """Natural key -> every distinct version the topic holds, and how many records it holds."""

    versions: dict[Key, list[dict[str, Any]]] = field(default_factory=dict)
    records: int = 0

    def repeated_unlike(self) -> list[Key]:
        """Keys published more than once with different contents (a correction aside): not
        exactly-once state."""
        return sorted(k for k, v in self.versions.items() if len(v) > 1)


def keep_version(seen: list[dict[str, Any]], version: dict[str, Any]) -> None:
    """Add a key's version to those seen: a correction replaces what it corrects, and a version
    a correction already replaced (its batch published again after a crash) adds nothing."""
    if any(corrects(old, version) for old in seen):
        return
    seen[:] = [old for old in seen if not corrects(version, old)]
    if version not in seen:
        seen.append(version)


def read_published(bootstrap: str, topic: str, schema: str, fields: Iterable[str]) -> Published:
    """The whole topic, to its end now."""
    serde, published, kept = AvroSerde(), Published(), tuple(fields)
    key_of = bar_key if schema == "bar" else anomaly_key
    # Uncommitted too: a batch written again after a crash shows in both of its versions.
    for messages in batches_to_end(bootstrap, topic, "outputs", committed_only=False):
        for message in messages:
            record = serde.decode(schema, message.value())
            published.records += 1
            version = {f: record[f] for f in kept}
            keep_version(published.versions.setdefault(key_of(record), []), version)
    return published


def read_outputs(bootstrap: str) -> tuple[Published, Published]:
    """The bars and anomalies topics as the disturbed run's signals published them."""
    return (
        read_published(bootstrap, BARS, "bar", BAR_FIELDS),
        read_published(bootstrap, ANOMALIES, "anomaly", ANOMALY_FIELDS),
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


@dataclass
class OutputCheck:
    expected: int
    stored: int
    equal: int = 0
    missing: list[Key] = field(default_factory=list)
    extra: list[Key] = field(default_factory=list)
    different: list[tuple[Key, str]] = field(default_factory=list)  # key, what differs

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.different)


def compare_outputs(
    expected: Mapping[Key, Mapping[str, Any]],
    stored: Mapping[Key, Mapping[str, Any]],
    fields: Iterable[str],
) -> OutputCheck:
    """By natural key; a differing record names its first differing field, reference -> stored.
    Values are compared exactly: the same ticks in the same order make the same doubles."""
    check, kept = OutputCheck(len(expected), len(stored)), tuple(fields)
    for key in sorted(expected):
        found = stored.get(key)
        if found is None:
            check.missing.append(key)
            continue
        want = expected[key]
        unlike = next((f for f in kept if not _same(want[f], found[f])), None)
        if unlike is None:
            check.equal += 1
        else:
            check.different.append((key, f"{unlike} {want[unlike]!r} -> {found[unlike]!r}"))
    check.extra = sorted(k for k in stored if k not in expected)
    return check


def describe(check: OutputCheck, what: str) -> str:
    text = (
        f"{check.expected:,} {what} made by the reference, {check.stored:,} stored: "
        f"{check.equal:,} equal, {len(check.missing):,} missing, {len(check.extra):,} extra, "
        f"{len(check.different):,} different"
    )
    if check.different:
        key, unlike = check.different[0]
        text += f"; first different: {'|'.join(map(str, key))} ({unlike})"
    if check.missing:
        text += f"; missing: {names(['|'.join(map(str, k)) for k in check.missing])}"
    if check.extra:
        text += f"; extra: {names(['|'.join(map(str, k)) for k in check.extra])}"
    return text


@dataclass
class RunOutputs:
    """What the disturbed run's signals left: the tables' rows and the topics' records."""

    stored: Judged
    bars_topic: Published
    anomalies_topic: Published


def gather_outputs(url: str, bootstrap: str) -> RunOutputs:
    return RunOutputs(stored_outputs(url), *read_outputs(bootstrap))


def signals_rows(
    ordered: Mapping[int, list[tuple[bytes, dict[str, Any]]]], run: RunOutputs
) -> tuple[list[tuple[str, str, str]], bool]:
    """The table's rows: bars and judgements as the reference's, and the topics' repeats."""
    judged = judge(ordered)
    bars = compare_outputs(judged.bars, run.stored.bars, BAR_FIELDS)
    anomalies = compare_outputs(judged.anomalies, run.stored.anomalies, ANOMALY_FIELDS)
    by_rule = Counter(k[2] for k, _ in anomalies.different)
    by_rule.update(k[2] for k in anomalies.missing + anomalies.extra)
    judgements = describe(anomalies, "judgements")
    if by_rule:
        judgements += " (by rule: " + ", ".join(f"{r} {n:,}" for r, n in by_rule.items()) + ")"
    unlike = {
        "bars": run.bars_topic.repeated_unlike(),
        "anomalies": run.anomalies_topic.repeated_unlike(),
    }
    published = "; ".join(
        f"{what}: {topic.records:,} records for {len(topic.versions):,} keys, "
        f"{len(unlike[what]):,} keys published in differing versions"
        + (f" ({'|'.join(map(str, unlike[what][0]))}, first)" if unlike[what] else "")
        for what, topic in (("bars", run.bars_topic), ("anomalies", run.anomalies_topic))
    )
    repeats_ok = not unlike["bars"] and not unlike["anomalies"]
    rows = [
        ("bars as an undisturbed run", _mark(bars.ok), describe(bars, "bars")),
        ("judgements as an undisturbed run", _mark(anomalies.ok), judgements),
        ("outputs republished alike", _mark(repeats_ok), published),
    ]
    return rows, bars.ok and anomalies.ok and repeats_ok


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
