"""For tests of the running service: the anomalies and bars the engine makes of a ticks topic when
run in-process, beside those the service wrote, read back from their topics."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import ANOMALIES, BARS, TICKS
from tickwire_signals.domain.config import SignalsConfig
from tickwire_signals.domain.engine import SignalEngine
from tickwire_signals.handler import SignalsHandler, TickEvent
from tickwire_testing.kafka import decode_all, read_topic
from tickwire_testing.processes import Service

Records = list[dict[str, Any]]


def reference(messages: list[Any]) -> tuple[Records, Records]:
    """(anomalies, bars) of the engine over the Kafka messages, in partition and offset order, as
    a reader of their topics sees them (fields the engine leaves out take the schemas' defaults)."""
    serde = AvroSerde()
    handler = SignalsHandler(SignalEngine(SignalsConfig()), serde, lambda _key: None)
    events = [TickEvent(m.key(), m.value(), m.partition(), m.offset()) for m in messages]
    out = handler(sorted(events, key=lambda e: (e.partition, e.offset))).emitted
    return (
        [serde.decode("anomaly", serde.encode("anomaly", a)) for a in out.anomalies],
        [serde.decode("bar", serde.encode("bar", b)) for b in out.bars],
    )


def expected_and_written(
    bootstrap: str, topic_prefix: str, tick_count: int
) -> tuple[Records, Records, Records, Records]:
    """(expected anomalies, expected bars, anomalies written, bars written): the written ones read
    until as many as expected have arrived and no more come (so extras are seen)."""
    expected_anomalies, expected_bars = reference(
        read_topic(bootstrap, topic_prefix + TICKS, expect=tick_count)
    )
    serde = AvroSerde()
    bars = decode_all(
        serde, "bar", read_topic(bootstrap, topic_prefix + BARS, expect=len(expected_bars))
    )
    anomalies = decode_all(
        serde,
        "anomaly",
        read_topic(bootstrap, topic_prefix + ANOMALIES, expect=len(expected_anomalies)),
    )
    return expected_anomalies, expected_bars, anomalies, bars


@dataclass
class ServiceRun:
    """What one run of the service over a ticks topic wrote, beside what its engine makes of it."""

    expected_anomalies: Records
    expected_bars: Records
    anomalies: Records
    bars: Records
    log: str

    def assert_as_expected(self) -> None:
        def bar_id(b: dict[str, Any]) -> tuple[Any, ...]:
            return (b["interval"], b["start_ts"], b["revision"])

        def anomaly_id(a: dict[str, Any]) -> tuple[Any, ...]:
            return (a["ts"], a["rule"], a["severity"])

        assert sorted(self.bars, key=bar_id) == sorted(self.expected_bars, key=bar_id)
        assert sorted(self.anomalies, key=anomaly_id) == sorted(
            self.expected_anomalies, key=anomaly_id
        )


def run_service(
    bootstrap: str, topic_prefix: str, tick_count: int, env: dict[str, str], workdir: Path
) -> ServiceRun:
    """Start the signals service with `env`, read what it wrote (through `bootstrap`) until the
    engine's reference has arrived, stop it, and check it stopped cleanly."""
    service = Service("tickwire_signals", "signals", workdir, env).start()
    try:
        written = expected_and_written(bootstrap, topic_prefix, tick_count)
    finally:
        code = service.stop()
    assert code == 0, f"signals exited with {code}"
    return ServiceRun(*written, log=service.log_path.read_text())


def tick(kind: str, ts: int, instrument: str, **values: Any) -> dict[str, Any]:
    """The least tick the engine takes, from provider "sim", received when it happened."""
    return {
        "provider": "sim",
        "instrument": instrument,
        "kind": kind,
        "exchange_ts": ts,
        "received_ts": ts,
        **values,
    }


def trade(ts: int, price: float, volume: float = 1.0, *, instrument: str) -> dict[str, Any]:
    return tick("trade", ts, instrument, last_traded_price=price, last_traded_volume=volume)


def quote(ts: int, bid: float | None, ask: float | None, *, instrument: str) -> dict[str, Any]:
    return tick("quote", ts, instrument, bid_price=bid, ask_price=ask)
