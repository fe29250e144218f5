import json

import pytest

from tickwire_core.errors import SchemaError, SerializationError
from tickwire_core.serde import MAGIC, AvroSerde


@pytest.fixture(scope="module")
def serde() -> AvroSerde:
    return AvroSerde()


def tick(**values: object) -> dict[str, object]:
    return {
        "provider": "simulator",
        "instrument": "SIM-BTC-USD",
        "kind": "quote",
        "exchange_ts": 1_700_000_000_000_001,
        "received_ts": 1_700_000_000_000_123,
        **values,
    }


def test_tick_round_trips_with_times_as_integer_microseconds(serde: AvroSerde) -> None:
    data = serde.encode("tick", tick(bid_price=65000.5, ask_price=65001.0, venue_seq=7))
    decoded = serde.decode("tick", data)
    assert decoded["exchange_ts"] == 1_700_000_000_000_001
    assert decoded["received_ts"] == 1_700_000_000_000_123
    assert decoded["bid_price"] == 65000.5
    assert decoded["venue_seq"] == 7
    assert decoded["last_traded_price"] is None
    assert decoded["ingest_seq"] == -1  # the schema's default


def test_encoding_is_avro_single_object_with_the_schema_fingerprint(serde: AvroSerde) -> None:
    data = serde.encode("tick", tick())
    assert data[:2] == MAGIC
    # The fingerprint is the CRC-64-AVRO of the schema's canonical form: the same bytes for every
    # tick record, different for another schema.
    assert data[2:10] == serde.encode("tick", tick(bid_price=1.0))[2:10]
    bar = serde.encode(
        "bar",
        {
            "provider": "p",
            "instrument": "i",
            "interval": "1s",
            "start_ts": 0,
            "open": 1.0,
            "high": 1.0,
            "low": 1.0,
            "close": 1.0,
            "volume": 0.0,
            "tick_count": 1,
            "source": "mid",
        },
    )
    assert bar[2:10] != data[2:10]


@pytest.mark.parametrize("data", [None, b"", b"\xc3\x01", b"not avro at all", b"\x00" * 40])
def test_garbage_is_a_serialization_error(serde: AvroSerde, data: bytes | None) -> None:
    with pytest.raises(SerializationError):
        serde.decode("tick", data)


def test_truncated_body_is_a_serialization_error(serde: AvroSerde) -> None:
    data = serde.encode("tick", tick(bid_price=1.0))
    with pytest.raises(SerializationError, match="cannot decode tick"):
        serde.decode("tick", data[:-3])


def test_trailing_bytes_are_a_serialization_error(serde: AvroSerde) -> None:
    data = serde.encode("tick", tick())
    with pytest.raises(SerializationError, match="trailing"):
        serde.decode("tick", data + b"\x00")


def test_record_of_another_schema_is_read_by_resolution_or_refused(serde: AvroSerde) -> None:
    signal = serde.encode(
        "signal",
        {
            "provider": "p",
            "instrument": "i",
            "ts": 1,
            "name": "mid",
            "value": 1.0,
            "parameters": {},
        },
    )
    with pytest.raises(SerializationError):
        serde.decode("tick", signal)


def test_unknown_fingerprint_is_refused(serde: AvroSerde) -> None:
    data = bytearray(serde.encode("tick", tick()))
    data[2:10] = b"\x01" * 8
    with pytest.raises(SerializationError, match="unknown schema"):
        serde.decode("tick", bytes(data))


def test_missing_required_field_cannot_be_encoded(serde: AvroSerde) -> None:
    bad = tick()
    del bad["instrument"]
    with pytest.raises(SerializationError, match="cannot encode tick"):
        serde.encode("tick", bad)


def test_unknown_schema_name(serde: AvroSerde) -> None:
    with pytest.raises(SchemaError, match="unknown schema 'nope'"):
        serde.encode("nope", {})


def test_a_schema_file_that_does_not_parse_names_itself(tmp_path) -> None:
    (tmp_path / "broken.avsc").write_text(
        json.dumps({"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]})
    )
    with pytest.raises(SchemaError, match=r"broken\.avsc"):
        AvroSerde(tmp_path)
