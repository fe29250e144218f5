"""Backfilled ticks (history=true) reach signals on the same topic as live ones: they are left
out, so an old trade arriving now raises no late-tick report, z-score anomaly or bar."""

from tickwire_core.serde import AvroSerde
from tickwire_signals.domain.config import SignalsConfig
from tickwire_signals.domain.engine import SignalEngine
from tickwire_signals.handler import SignalsHandler, TickEvent
from tickwire_testing.ticks import trade

T0 = 1_800_000_000_000_000
SECOND = 1_000_000


def _events(ticks: list[dict]) -> list[TickEvent]:
    serde = AvroSerde()
    return [
        TickEvent(b"binance|BTC-USDT", serde.encode("tick", t), 0, offset)
        for offset, t in enumerate(ticks)
    ]


def _run(ticks: list[dict]):
    handler = SignalsHandler(SignalEngine(SignalsConfig()), AvroSerde(), lambda _key: None)
    return handler(_events(ticks))


def test_backfilled_ticks_behind_the_live_feed_raise_nothing() -> None:
    live = [trade("BTC-USDT", T0 + i * SECOND, 100.0, 1.0, provider="binance") for i in range(120)]
    # A backfill of an hour earlier, at wildly different prices: as live ticks these would be late
    # ticks and outliers.
    old = [
        trade("BTC-USDT", T0 - 3600 * SECOND + i * SECOND, 10.0 + i, 1.0, provider="binance")
        | {"history": True}
        for i in range(60)
    ]
    alone = _run(live).emitted
    mixed = _run(live + old).emitted
    assert alone.bars, "the live ticks close bars"
    assert mixed.bars == alone.bars
    assert mixed.anomalies == alone.anomalies
    assert mixed.signals == alone.signals


def test_the_same_ticks_without_the_marker_are_judged() -> None:
    # The comparison above can fail: unmarked, the old ticks change what signals emits.
    live = [trade("BTC-USDT", T0 + i * SECOND, 100.0, 1.0, provider="binance") for i in range(120)]
    old = [
        trade("BTC-USDT", T0 - 3600 * SECOND + i * SECOND, 10.0 + i, 1.0, provider="binance")
        for i in range(60)
    ]
    alone, mixed = _run(live).emitted, _run(live + old).emitted
    assert (mixed.bars, mixed.anomalies) != (alone.bars, alone.anomalies)
