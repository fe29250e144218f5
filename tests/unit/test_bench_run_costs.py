"""The latency benchmark's settings under trial: `--set SERVICE:VARIABLE=VALUE` items by service,
a value keeping its own '=' and ':', and a malformed item refused with its text."""

import pytest

from tests.unit.benchmark_modules import load_benchmark

service_settings = load_benchmark("run_costs").service_settings


def test_items_are_grouped_by_service() -> None:
    items = [
        "sink:TICKWIRE_BATCH_TIMEOUT_MS=50",
        "normalize:TICKWIRE_BATCH_TIMEOUT_MS=25",
        'sink:KAFKA_CLIENT_CONFIG={"fetch.wait.max.ms": "50", "a": "b=c:d"}',
    ]
    assert service_settings(items) == {
        "sink": {
            "TICKWIRE_BATCH_TIMEOUT_MS": "50",
            "KAFKA_CLIENT_CONFIG": '{"fetch.wait.max.ms": "50", "a": "b=c:d"}',
        },
        "normalize": {"TICKWIRE_BATCH_TIMEOUT_MS": "25"},
    }


@pytest.mark.parametrize("item", ["TICKWIRE_BATCH_TIMEOUT_MS=50", "sink:", "sink:=5", ":A=1"])
def test_a_malformed_item_is_refused_with_its_text(item: str) -> None:
    with pytest.raises(SystemExit, match="expected SERVICE:VARIABLE=VALUE"):
        service_settings([item])


def test_costs_are_per_thousand_ticks_and_batches_are_averaged() -> None:
    cost_lines = load_benchmark("run_costs").cost_lines
    lines = cost_lines(
        {"normalize": 2.1, "sink": 0.9},
        30_000,
        {"normalize": (200.0, 30_000.0, 10.0), "sink": (0.0, 0.0, 0.0)},
    )
    assert lines == [
        "  CPU seconds per 1,000 ticks, from ready to the last tick stored: "
        "normalize 0.07, sink 0.03",
        "  normalize: 200 batches, 150 records and 50.0 ms (handle, produce, commit) each on "
        "average",
    ]
