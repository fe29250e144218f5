from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tickwire_core.serde import AvroSerde
from tickwire_ingest.adapters.replay_file import ReplayFile, ReplayWriter
from tickwire_ingest.domain.events import GAP_CONTENT_TYPE, STALE, Gap, VenueMessage
from tickwire_ingest.domain.raw import Envelope
from tickwire_ingest.domain.replay import RecordedGap
from tickwire_ingest.record import record

T0 = 1_700_000_000_000_000
SERDE = AvroSerde()


@dataclass
class FakeMessage:
    data: bytes

    def value(self) -> bytes:
        return self.data

    def error(self) -> None:
        return None


@dataclass
class FakeTopic:
    """Hands out the queued values, then nothing; polling costs the time it waits."""

    values: list[bytes]
    now: float = 0.0
    polls: list[float] = field(default_factory=list)

    def poll(self, timeout: float = -1) -> FakeMessage | None:
        self.polls.append(timeout)
        if self.values:
            self.now += 0.001
            return FakeMessage(self.values.pop(0))
        self.now += timeout
        return None

    def clock(self) -> float:
        return self.now


def raw_records() -> list[dict[str, Any]]:
    env = Envelope("binance", "primary")
    gap = Gap("ETHUSDT", STALE, T0 + 5, T0 + 9, detail="no frame for 30 s")
    records = [
        env.wrap("bookTicker", "BTCUSDT", b'{"u":1,"b":"25.35"}', T0),
        env.wrap("aggTrade", "BTCUSDT", b'{"e":"aggTrade","p":"25.36"}', T0 + 7),
        env.wrap("gap", "ETHUSDT", gap.payload(), T0 + 9),
    ]
    records[2]["content_type"] = GAP_CONTENT_TYPE
    return records


def test_records_of_the_topic_become_a_replay_file_that_replays_them(tmp_path: Path) -> None:
    values = [SERDE.encode("raw_tick", r) for r in raw_records()]
    topic = FakeTopic([values[0], b"not avro", values[1], values[2]])
    warnings: list[str] = []
    path = tmp_path / "incident.jsonl.gz"
    with ReplayWriter(path) as writer:
        written = record(
            topic, SERDE, writer, idle_timeout_s=0.5, clock=topic.clock, warn=warnings.append
        )
    assert written == 3
    assert len(warnings) == 1 and "skipped a record" in warnings[0]
    assert list(ReplayFile(path)) == [
        VenueMessage("bookTicker", "BTCUSDT", b'{"u":1,"b":"25.35"}', T0, "binance"),
        VenueMessage("aggTrade", "BTCUSDT", b'{"e":"aggTrade","p":"25.36"}', T0 + 7, "binance"),
        RecordedGap(
            "binance", T0 + 9, Gap("ETHUSDT", STALE, T0 + 5, T0 + 9, detail="no frame for 30 s")
        ),
    ]
    # It stopped once nothing had come for the idle timeout, and no poll waited beyond it.
    assert topic.now == pytest.approx(0.004 + 0.5)
    assert max(topic.polls) <= 0.5


def test_it_stops_at_the_maximum_without_waiting(tmp_path: Path) -> None:
    values = [SERDE.encode("raw_tick", r) for r in raw_records()]
    topic = FakeTopic(values)
    with ReplayWriter(tmp_path / "x.jsonl") as writer:
        assert record(topic, SERDE, writer, max_records=2, clock=topic.clock) == 2
    assert len(topic.values) == 1 and len(topic.polls) == 2
    assert len(list(ReplayFile(tmp_path / "x.jsonl"))) == 2
