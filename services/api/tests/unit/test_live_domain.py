"""Live events: which stream wants which record, and each record's JSON in the shape the history
routes return it (checked against their own response models)."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tickwire_api.domain.live import (
    KINDS,
    LiveEvent,
    LiveFilter,
    anomaly_fields,
    event_id,
    live_event,
    rfc3339,
    signal_fields,
)
from tickwire_api.models.events import Anomaly, Signal

T0 = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def at(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def event(instrument: str = "SIM-A", kind: str = "anomaly", provider: str = "simulator") -> Any:
    return LiveEvent(kind, provider, instrument, "t:0:0", "{}")  # type: ignore[arg-type]


def anomaly(**changes: Any) -> dict[str, Any]:
    return {
        "provider": "simulator",
        "instrument": "SIM-A",
        "ts": T0 + 250_000,
        "rule": "zscore",
        "severity": "critical",
        "value": 6.2,
        "threshold": 5.0,
        "window_mean": 100.0,
        "window_stddev": 0.25,
        "window_count": 200,
        "detail": "mid 101.55 is 6.2 standard deviations from the window mean",
        **changes,
    }


def signal(**changes: Any) -> dict[str, Any]:
    return {
        "provider": "simulator",
        "instrument": "SIM-A",
        "ts": T0,
        "name": "sma_20",
        "value": 100.25,
        "parameters": {"interval": "1m", "window": "20"},
        **changes,
    }


@pytest.mark.parametrize(
    ("live_filter", "candidate", "wanted"),
    [
        (LiveFilter(frozenset({"SIM-A"}), KINDS["both"]), event(), True),
        (LiveFilter(frozenset({"SIM-A"}), KINDS["both"]), event("SIM-B"), False),
        (LiveFilter(frozenset({"SIM-A", "SIM-B"}), KINDS["both"]), event("SIM-B"), True),
        (LiveFilter(frozenset({"SIM-A"}), KINDS["signals"]), event(), False),
        (LiveFilter(frozenset({"SIM-A"}), KINDS["signals"]), event(kind="signal"), True),
        (LiveFilter(frozenset({"SIM-A"}), KINDS["anomalies"]), event(kind="signal"), False),
        (LiveFilter(frozenset({"SIM-A"}), KINDS["both"], "binance"), event(), False),
        (
            LiveFilter(frozenset({"SIM-A"}), KINDS["both"], "binance"),
            event(provider="binance"),
            True,
        ),
        # Instruments are case-sensitive, as everywhere else in the API.
        (LiveFilter(frozenset({"sim-a"}), KINDS["both"]), event(), False),
    ],
)
def test_a_filter_takes_its_instruments_kinds_and_provider(
    live_filter: LiveFilter, candidate: LiveEvent, wanted: bool
) -> None:
    assert live_filter.matches(candidate) is wanted


def test_times_print_as_the_history_routes_print_them() -> None:
    assert rfc3339(T0) == "2023-11-14T22:13:20Z"
    assert rfc3339(T0 + 1) == "2023-11-14T22:13:20.000001Z"
    assert rfc3339(0) == "1970-01-01T00:00:00Z"


def test_an_anomaly_has_the_fields_and_values_of_v1_anomalies() -> None:
    record = anomaly()
    history = Anomaly.model_validate({**record, "ts": at(record["ts"])}).model_dump(mode="json")
    assert anomaly_fields(record) == history
    assert history["ts"] == "2023-11-14T22:13:20.250000Z"


def test_an_anomaly_without_its_optional_fields_prints_them_as_null() -> None:
    record = anomaly(value=float("nan"), threshold=float("inf"))
    for optional in ("window_mean", "window_stddev", "window_count", "detail"):
        del record[optional]
    fields = anomaly_fields(record)
    assert fields["window_mean"] is None and fields["window_count"] is None
    assert fields["detail"] == ""
    # JSON has no NaN: the history routes print non-finite numbers as null, and so does this.
    assert fields["value"] is None and fields["threshold"] is None
    assert set(fields) == set(Anomaly.model_fields)


def test_a_signal_has_the_fields_of_v1_signals_with_its_interval_from_the_parameters() -> None:
    record = signal()
    fields = signal_fields(record)
    history = Signal.model_validate(
        {**record, "ts": at(record["ts"]), "interval": "1m"}
    ).model_dump(mode="json")
    assert fields == history
    assert signal_fields(signal(parameters={}))["interval"] == ""


def test_an_event_carries_its_kind_key_position_and_compact_json() -> None:
    made = live_event("signal", "p.tickwire.signals", 4, 1042, signal(instrument="SIM-B"))
    assert made.kind == "signal"
    assert (made.provider, made.instrument) == ("simulator", "SIM-B")
    assert made.id == event_id("p.tickwire.signals", 4, 1042) == "p.tickwire.signals:4:1042"
    assert json.loads(made.data) == signal_fields(signal(instrument="SIM-B"))
    assert "\n" not in made.data and ": " not in made.data


def test_an_event_keeps_non_ascii_text_as_it_is() -> None:
    made = live_event("anomaly", "t", 0, 0, anomaly(detail="écart\nde 6 €"))
    assert json.loads(made.data)["detail"] == "écart\nde 6 €"
    assert "\n" not in made.data  # escaped inside the JSON string: one data line


@pytest.mark.parametrize(
    "record",
    [
        {k: v for k, v in anomaly().items() if k != "rule"},
        anomaly(ts=2**62),  # past year 9999
        anomaly(value="six"),
    ],
)
def test_a_record_that_cannot_be_an_event_raises(record: dict[str, Any]) -> None:
    with pytest.raises((KeyError, ValueError, OverflowError)):
        live_event("anomaly", "t", 0, 0, record)
