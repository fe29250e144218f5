"""The signals batch handler: one batch of ticks through the signal engine, outside faust so it
can be tested alone: decode, skip what a restart redelivers, apply, move the provider's clock in
the partition (stale quotes, bars of quiet instruments), and hand back the output records and the
states that changed. Every tick is judged at its own event time, so the output is the same however
the input is cut into batches.

State is exactly-once even though Kafka delivery is at-least-once: each instrument's state stores
the input offset of the last tick it applied, and that offset is written with the state, so a
tick redelivered after a crash is recognised and skipped. Output is written (and flushed) before
the state, so a crash may repeat outputs, never lose them; every output record has a natural
identity (instrument, interval, start / rule, time / name, time) for downstream deduplication.
Each provider's clock in a partition is stored beside the states (under clock_key): an instrument
the clock moved without closing a bar of it, or one whose state is loaded only at its next tick
after a restart, is judged by the watermark the partition gave it, as in an uninterrupted run."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge

from tickwire_core.errors import SerializationError
from tickwire_core.serde import AvroSerde
from tickwire_signals.adapters.tick_reader import TickReader
from tickwire_signals.domain.clock import ProviderClock
from tickwire_signals.domain.engine import SignalEngine
from tickwire_signals.domain.records import Emitted
from tickwire_signals.domain.state import InstrumentState

logger = logging.getLogger(__name__)

TICKS = Counter("tickwire_signals_ticks_total", "Ticks applied", ["provider"])
REDELIVERED = Counter("tickwire_signals_redelivered_total", "Ticks skipped as already applied")
UNDECODABLE = Counter("tickwire_signals_undecodable_total", "Input records that were not ticks")
HISTORY = Counter(
    "tickwire_signals_history_skipped_total",
    "Backfilled ticks (history=true) left out: they arrive out of order, long after their time",
    ["provider"],
)
ANOMALIES = Counter("tickwire_signals_anomalies_total", "Anomalies", ["rule", "severity"])
BARS = Counter("tickwire_signals_bars_total", "Bars closed", ["interval", "source"])
SIGNALS = Counter("tickwire_signals_signals_total", "Signal records", ["name"])
INSTRUMENTS = Gauge("tickwire_signals_instruments", "Instruments whose state this worker holds")


@dataclass(frozen=True, slots=True)
class TickEvent:
    key: bytes
    value: bytes | None
    partition: int
    offset: int


@dataclass
class BatchResult:
    emitted: Emitted = field(default_factory=Emitted)
    states: list[tuple[bytes, int, dict[str, Any]]] = field(
        default_factory=list
    )  # key, part, state
    undecodable: list[tuple[TickEvent, str]] = field(default_factory=list)


StateLoader = Callable[[bytes], dict[str, Any] | None]


def clock_key(provider: str, partition: int) -> bytes:
    """The state table's key of a provider's clock in a partition; no tick key starts with NUL."""
    return f"\x00clock|{provider}|{partition}".encode()


class SignalsHandler:
    """Holds live InstrumentState objects for the partitions this worker owns; the durable copy is
    the faust table (loaded on first use after an assignment, written after every batch)."""

    def __init__(self, engine: SignalEngine, serde: AvroSerde, load: StateLoader) -> None:
        self.engine = engine
        self.serde = serde
        self.read = TickReader(serde).decode
        self.load = load
        self._states: dict[bytes, InstrumentState] = {}
        self._partition: dict[bytes, int] = {}
        self._clocks: dict[tuple[str, int], ProviderClock] = {}  # (provider, partition)

    def __call__(self, events: Iterable[TickEvent]) -> BatchResult:
        result = BatchResult()
        out = result.emitted
        changed: set[bytes] = set()
        applied: dict[str, int] = {}  # provider -> ticks (metrics are counted once a batch)
        moved: set[tuple[str, int]] = set()  # (provider, partition) of the clocks moved
        for event in events:
            try:
                tick = self.read(event.value)
            except SerializationError as exc:
                UNDECODABLE.inc()
                result.undecodable.append((event, str(exc)))
                continue
            if tick.get("history"):
                # A backfill's ticks are not judged, windowed or barred: their times are far
                # behind the live feed's, so each would read as a late tick or an outlier.
                HISTORY.labels(tick.get("provider") or "").inc()
                continue
            state = self._state(event.key, event.partition, tick, out)
            if event.offset <= state.last_offset:
                REDELIVERED.inc()
                continue
            self.engine.apply(state, tick, out, offset=event.offset)
            changed.add(event.key)
            applied[state.provider] = applied.get(state.provider, 0) + 1
            where = (state.provider, self._partition[event.key])
            clock = self._clocks[where]
            before = clock.now
            changed |= clock.move(event.key, tick["exchange_ts"], out)
            if clock.now != before:
                moved.add(where)
        for provider, count in applied.items():
            TICKS.labels(provider).inc(count)
        for key in changed:
            state = self._states[key]
            result.states.append((key, self._partition[key], state.to_dict()))
        for provider, partition in moved:
            now = self._clocks[(provider, partition)].now
            result.states.append((clock_key(provider, partition), partition, {"clock_now": now}))
        self._count(out)
        INSTRUMENTS.set(len(self._states))
        return result

    def _state(
        self, key: bytes, partition: int, tick: dict[str, Any], out: Emitted
    ) -> InstrumentState:
        state = self._states.get(key)
        if state is None:
            stored = self.load(key)
            state = (
                InstrumentState.from_dict(stored)
                if stored is not None
                else self.engine.new_state(tick["provider"], tick["instrument"])
            )
            self._states[key] = state
            self._partition[key] = partition
            clock = self._clock(state.provider, partition)
            reached = clock.reached()
            if stored is not None and reached is not None:
                # Uninterrupted, the instrument would have been on the clock all along: its
                # watermark goes where the clock has taken the others.
                self.engine.advance(state, reached, out)
            clock.add(key, state)
        return state

    def _clock(self, provider: str, partition: int) -> ProviderClock:
        clock = self._clocks.get((provider, partition))
        if clock is None:
            clock = self._clocks[(provider, partition)] = ProviderClock(self.engine)
            stored = self.load(clock_key(provider, partition))
            if stored is not None:
                clock.now = stored["clock_now"]
        return clock

    def forget(self, partitions: set[int]) -> None:
        """Partitions moved to another worker: drop their live states (the table keeps them)."""
        for key in [k for k, p in self._partition.items() if p in partitions]:
            state = self._states.pop(key)
            partition = self._partition.pop(key)
            clock = self._clocks.get((state.provider, partition))
            if clock is not None:
                clock.discard(key)
                if not clock.states:
                    del self._clocks[(state.provider, partition)]

    @staticmethod
    def _count(out: Emitted) -> None:
        for a in out.anomalies:
            ANOMALIES.labels(a["rule"], a["severity"]).inc()
        for b in out.bars:
            BARS.labels(b["interval"], b["source"]).inc()
        for s in out.signals:
            SIGNALS.labels(s["name"]).inc()
