"""The per-stage latency table: a record's leading fields read without decoding the rest, and each
probe's percentiles since received_ts beside the stage's own share (the difference of medians)."""

from tests.unit.benchmark_modules import load_benchmark
from tickwire_core.serde import AvroSerde

stage_lag = load_benchmark("stage_lag")
SERDE = AvroSerde()
RECEIVED = 1_796_630_400_123_456  # 2026-12-07 08:00:00.123456 UTC, microseconds


def test_the_leading_reader_gets_received_ts_of_a_normalized_tick() -> None:
    tick = {
        "provider": "simulator",
        "instrument": "SIM-BTC-USD",
        "kind": "quote",
        "exchange_ts": RECEIVED - 1_000,
        "received_ts": RECEIVED,
        "bid_price": 65_000.5,
        "ingest_seq": 7,
    }
    read = stage_lag.leading_reader(SERDE, "tick", "received_ts")
    leading = read(SERDE.encode("tick", tick))
    assert leading["received_ts"] == RECEIVED
    assert leading["instrument"] == "SIM-BTC-USD"
    assert "bid_price" not in leading


def test_the_leading_reader_gets_received_ts_of_a_raw_record() -> None:
    raw = {
        "provider": "simulator",
        "feed": "ticker",
        "ingest_instance": "primary",
        "instrument": "SIM-ETH-USD",
        "received_ts": RECEIVED,
        "ingest_seq": 3,
        "payload": b"{}",
    }
    read = stage_lag.leading_reader(SERDE, "raw_tick", "received_ts")
    assert read(SERDE.encode("raw_tick", raw))["received_ts"] == RECEIVED


def test_stages_are_cumulative_since_received_ts_and_warmup_is_left_out() -> None:
    raw, ticks = stage_lag.TopicLag(), stage_lag.TopicLag()
    raw.samples += [(1_000_000, 1_004_000, 1_010_000), (0, 90_000, 95_000)]  # second: warm-up
    ticks.samples += [(1_000_000, 1_150_000, 1_300_000)]
    stages = stage_lag.stages_from(raw, ticks, [450.0], start_us=500_000)
    assert [s.cumulative_ms for s in stages] == [[4.0], [150.0], [300.0], [450.0]]


def test_the_table_gives_each_stage_the_difference_of_medians() -> None:
    stages = [
        stage_lag.Stage("first", [10.0, 20.0, 30.0]),
        stage_lag.Stage("second", [100.0, 120.0, 500.0]),
        stage_lag.Stage("third", []),
    ]
    header, first, second, third = stage_lag.stage_table(stages)
    assert "p50 ms" in header
    assert first.split()[-5:] == ["20.0", "30.0", "30.0", "+20.0", "3"]
    assert second.split()[-5:] == ["120.0", "500.0", "500.0", "+100.0", "3"]
    assert "no samples" in third


def test_both_tables_leave_out_the_warmup_and_anomalies_without_an_append_time() -> None:
    raw, ticks = stage_lag.TopicLag(), stage_lag.TopicLag()
    raw.samples.append((1_000_000, 1_005_000, 1_006_000))
    ticks.samples.append((1_000_000, 1_100_000, 1_120_000))
    anomalies = [(2_000_000, 300_000, 290_000), (2_000_000, 400_000, -1), (0, 9_000, 8_000)]
    lines = stage_lag.stage_lines(raw, ticks, [200.0], anomalies, start_us=500_000)
    appended = next(line for line in lines if "signals' append" in line)
    readable = next(line for line in lines if "anomaly readable" in line)
    assert appended.split()[-5:] == ["290.0", "290.0", "290.0", "+290.0", "1"]
    assert readable.split()[-5:] == ["300.0", "400.0", "400.0", "+10.0", "2"]  # nearest rank
