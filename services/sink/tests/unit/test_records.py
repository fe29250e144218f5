"""Bar, anomaly, signal, dead-letter, short volume, short interest and dedup tally records as rows:
columns mirror the schemas, values keep their order, omitted optional fields take the schema's
defaults."""

import io
import json
from typing import Any

import fastavro
import pytest

from tickwire_core.serde import MAGIC, AvroSerde, default_schema_dir, fingerprint
from tickwire_sink.domain.records import (
    ANOMALIES,
    BARS,
    DEDUP_TALLIES,
    REJECTS,
    SIGNALS,
    TABLES,
    TableSpec,
    tally_rows,
)

T0 = 1_700_000_000_000_000

BAR = {
    "provider": "simulator",
    "instrument": "SIM-A",
    "interval": "1m",
    "start_ts": T0,
    "open": 100.0,
    "high": 101.5,
    "low": 99.5,
    "close": 101.0,
    "volume": 12.5,
    "tick_count": 42,
    "source": "trade",
    "adj_close": None,
    "revision": 0,
}
ANOMALY = {
    "provider": "simulator",
    "instrument": "SIM-A",
    "ts": T0 + 7,
    "rule": "zscore",
    "severity": "critical",
    "value": 6.2,
    "threshold": 4.0,
    "window_mean": 100.1,
    "window_stddev": 0.3,
    "window_count": 200,
    "detail": "bid jumped",
}
SIGNAL = {
    "provider": "simulator",
    "instrument": "SIM-A",
    "ts": T0 + 60_000_000,
    "name": "sma_20",
    "value": 100.25,
    "parameters": {"interval": "1m", "window": "20"},
}
DEAD_LETTER = {
    "reason": "undecodable",
    "message": "not an Avro single-object tick record",
    "service": "normalize",
    "source_topic": "raw_ticks",
    "source_partition": 3,
    "source_offset": 12_345,
    "source_key": b"SIM-A",
    "payload": b"\x00\x01\xff",
    "rejected_ts": T0 + 9,
    "provider": "simulator",
    "instrument": "SIM-A",
    "event_ts": T0 + 3,
}
SHORT_VOLUME = {
    "provider": "finra",
    "instrument": "BRK-B",
    "facility": "CNMS",
    "trade_date": 19_723,
    "short_volume": 1234.5,
    "short_exempt_volume": None,
    "total_volume": 4000.0,
    "market": "B,Q,N",
    "received_ts": T0 + 11,
}
SHORT_INTEREST = {
    "provider": "finra",
    "instrument": "BRK-B",
    "settlement_date": 19_737,
    "short_interest": 5_000_000.0,
    "previous_short_interest": 4_500_000.0,
    "average_daily_volume": 2_500_000.0,
    "days_to_cover": 2.0,
    "market": "NYSE",
    "received_ts": T0 + 12,
}
RECORDS: dict[str, dict[str, Any]] = {
    "bar": BAR,
    "short_volume": SHORT_VOLUME,
    "short_interest": SHORT_INTEREST,
    "anomaly": ANOMALY,
    "signal": SIGNAL,
    "dead_letter": DEAD_LETTER,
}
# How each Avro type of the schemas is stored (times are checked apart).
PG_TYPE_OF_AVRO = {
    "string": "text",
    "double": "float8",
    "int": "int4",
    "long": "int8",
    "boolean": "bool",
    "bytes": "bytea",
    "map": "jsonb",
}


def avro_type(declared: Any) -> str:
    if isinstance(declared, list):  # ["null", T]
        declared = next(t for t in declared if t != "null")
    if isinstance(declared, dict):
        declared = declared["type"]
    return str(declared)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_columns_are_the_schema_fields_with_their_types(name: str) -> None:
    serde = AvroSerde()
    spec = TABLES[name]
    assert spec.record_name == name
    fields = {f["name"]: avro_type(f["type"]) for f in serde.schema(name)["fields"]}
    columns = dict(spec.columns)
    derived = {"interval"} if spec is SIGNALS else set()
    assert set(columns) == set(fields) | derived
    assert spec.time_columns == serde.time_fields(name)
    for column in spec.time_columns:
        assert columns[column] == "timestamptz"
    declared = json.loads((default_schema_dir() / f"{name}.avsc").read_text())
    dates = {
        f["name"]
        for f in declared["fields"]
        if isinstance(f["type"], dict) and f["type"].get("logicalType") == "date"
    }
    assert spec.date_columns == dates
    for column, avro in fields.items():
        if column in dates:
            assert columns[column] == "date", column
        elif column not in spec.time_columns:
            assert columns[column] == PG_TYPE_OF_AVRO[avro], column
    assert spec.json_columns == {c for c, t in columns.items() if t == "jsonb"}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_a_decoded_record_becomes_its_values_in_column_order(name: str) -> None:
    serde = AvroSerde()
    spec: TableSpec = TABLES[name]
    decoded = serde.decode(name, serde.encode(name, RECORDS[name]))
    row = spec.to_row(decoded)
    assert len(row) == len(spec.columns)
    by_column = dict(zip(spec.names, row, strict=True))
    derived = {"interval": "1m"} if spec is SIGNALS else {}
    assert by_column == {**RECORDS[name], **derived}


def test_the_signal_interval_comes_from_its_parameters() -> None:
    by_column = dict(zip(SIGNALS.names, SIGNALS.to_row(SIGNAL), strict=True))
    assert by_column["interval"] == "1m"
    spread = {**SIGNAL, "name": "spread", "parameters": {}}
    assert dict(zip(SIGNALS.names, SIGNALS.to_row(spread), strict=True))["interval"] == ""
    built_in_code = {k: v for k, v in SIGNAL.items() if k != "parameters"}
    row = dict(zip(SIGNALS.names, SIGNALS.to_row(built_in_code), strict=True))
    assert (row["parameters"], row["interval"]) == ({}, "")


def test_a_row_does_not_share_the_records_parameters() -> None:
    record = {**SIGNAL, "parameters": {"interval": "1m"}}
    row = SIGNALS.to_row(record)
    row[SIGNALS.names.index("parameters")]["window"] = "50"
    assert record["parameters"] == {"interval": "1m"}


def test_omitted_optional_fields_take_the_schema_defaults() -> None:
    required = {
        k: v
        for k, v in ANOMALY.items()
        if k not in {"window_mean", "window_stddev", "window_count", "detail"}
    }
    by_column = dict(zip(ANOMALIES.names, ANOMALIES.to_row(required), strict=True))
    assert by_column == {
        **required,
        "window_mean": None,
        "window_stddev": None,
        "window_count": None,
        "detail": "",
    }
    keyless = {k: v for k, v in DEAD_LETTER.items() if k != "source_key"}
    assert dict(zip(REJECTS.names, REJECTS.to_row(keyless), strict=True))["source_key"] is None


@pytest.mark.parametrize("spec", [BARS, ANOMALIES, SIGNALS, REJECTS], ids=lambda s: s.table)
def test_a_missing_required_field_is_an_error_not_a_null(spec: TableSpec) -> None:
    record = dict(RECORDS[spec.record_name])
    del record["provider" if spec is not REJECTS else "payload"]
    with pytest.raises(KeyError):
        spec.to_row(record)


def test_a_dead_letter_written_before_the_attribution_fields_is_stored_unattributed() -> None:
    old_schema = json.loads(
        (default_schema_dir() / "history" / "dead_letter" / "1.avsc").read_text()
    )
    # Encoded with the earlier version, as records still on the topic are.
    body = io.BytesIO()
    old = {k: v for k, v in DEAD_LETTER.items() if k not in {"provider", "instrument", "event_ts"}}
    fastavro.schemaless_writer(body, fastavro.parse_schema(old_schema), old)
    data = MAGIC + fingerprint(old_schema) + body.getvalue()
    decoded = AvroSerde().decode("dead_letter", data)
    row = dict(zip(REJECTS.names, REJECTS.to_row(decoded), strict=True))
    assert (row["provider"], row["instrument"], row["event_ts"]) == (None, None, None)
    assert row["reason"] == DEAD_LETTER["reason"]


@pytest.mark.parametrize("event_ts", [-(2**63), 2**63 - 1, 253_402_300_800_000_000])
def test_an_event_time_no_reader_can_hold_is_stored_as_unknown(event_ts: int) -> None:
    row = dict(
        zip(REJECTS.names, REJECTS.to_row({**DEAD_LETTER, "event_ts": event_ts}), strict=True)
    )
    assert row["event_ts"] is None and row["instrument"] == "SIM-A"


def test_a_tally_becomes_one_row_per_entry_keyed_by_the_records_position() -> None:
    serde = AvroSerde()
    tally = {
        "instance": "normalize-0",
        "tallied_ts": T0,
        "entries": [
            {"provider": "deribit", "instrument": "BTC-USD-PERP", "day": 19_700, "duplicates": 3},
            {"provider": "deribit", "instrument": "BTC-USD-PERP", "day": 19_701, "duplicates": 1},
        ],
    }
    decoded = serde.decode("dedup_tally", serde.encode("dedup_tally", tally))
    rows = [dict(zip(DEDUP_TALLIES.names, r, strict=True)) for r in tally_rows(decoded, "t", 2, 9)]
    position = {"source_topic": "t", "source_partition": 2, "source_offset": 9}
    assert rows == [{**entry, **position} for entry in tally["entries"]]
    assert DEDUP_TALLIES.date_columns == {"day"} and DEDUP_TALLIES.time_columns == set()
