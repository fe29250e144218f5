import io
import math
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickwire_core.avro_types import field_type
from tickwire_core.errors import SerializationError
from tickwire_core.flat_records import Unplanned, plan
from tickwire_core.serde import AvroSerde

SERDE = AvroSerde()
PLANNED = [name for name in SERDE.names if plan(SERDE.schema(name)) is not None]

VALUES = {
    "long": st.integers(-(2**63), 2**63 - 1),
    "int": st.integers(-(2**31), 2**31 - 1),
    "double": st.floats(allow_nan=False),
    "float": st.floats(allow_nan=False, width=32),
    "string": st.text(),
    "bytes": st.binary(),
    "boolean": st.booleans(),
}


def records(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Any record of schema `name`, fields with a default or null sometimes left out."""
    required, optional = {}, {}
    for field in SERDE.schema(name)["fields"]:
        kind = field_type(field["type"])
        values = VALUES[kind.name] | st.none() if kind.optional else VALUES[kind.name]
        if "default" in field or kind.optional:
            optional[field["name"]] = values
        else:
            required[field["name"]] = values
    return st.fixed_dictionaries(required, optional=optional)


def fastavro_body(name: str, record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, SERDE.schema(name), record)
    return out.getvalue()


def test_the_wide_records_are_planned_and_records_with_maps_or_arrays_are_not() -> None:
    assert {"tick", "raw_tick", "bar", "dead_letter"} <= set(PLANNED)
    assert "signal" not in PLANNED  # a map of parameters
    assert "dedup_tally" not in PLANNED  # an array of counts


@pytest.mark.parametrize("name", PLANNED)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_plan_writes_and_reads_exactly_what_fastavro_does(name: str, data: st.DataObject) -> None:
    record = data.draw(records(name))
    flat = plan(SERDE.schema(name))
    assert flat is not None
    body = flat.encode(record)
    assert body == fastavro_body(name, record)
    assert flat.decode(body) == fastavro.schemaless_reader(io.BytesIO(body), SERDE.schema(name))


def test_non_finite_doubles_are_written_as_fastavro_writes_them() -> None:
    flat = plan(SERDE.schema("tick"))
    assert flat is not None
    base = {"provider": "p", "instrument": "i", "kind": "quote", "exchange_ts": 1, "received_ts": 2}
    for value in (math.inf, -math.inf, math.nan):
        record = {**base, "bid_price": value}
        assert flat.encode(record) == fastavro_body("tick", record)


@pytest.mark.parametrize(
    "values",
    [
        {"bid_price": 65_000},  # an int where a double goes
        {"venue_seq": True},  # a bool where a long goes
        {"ingest_seq": 2**63},  # beyond a long
        {"trade_id": "\ud800"},  # a lone surrogate no UTF-8 writer stores
        {"instrument": None},  # null in a field that is not optional
    ],
)
def test_values_a_plan_leaves_alone_go_to_fastavro(values: dict[str, Any]) -> None:
    flat = plan(SERDE.schema("tick"))
    assert flat is not None
    base = {"provider": "p", "instrument": "i", "kind": "quote", "exchange_ts": 1, "received_ts": 2}
    record = {**base, **values}
    with pytest.raises(Unplanned):
        flat.encode(record)
    header = SERDE.encode("tick", base)[:10]
    try:
        expected = header + fastavro_body("tick", record)
    except (ValueError, TypeError, OverflowError):
        with pytest.raises(SerializationError):
            SERDE.encode("tick", record)
    else:
        assert SERDE.encode("tick", record) == expected


def test_a_missing_required_field_is_left_to_fastavro() -> None:
    flat = plan(SERDE.schema("raw_tick"))
    assert flat is not None
    with pytest.raises(Unplanned):
        flat.encode({"provider": "p"})


@pytest.mark.parametrize("cut", [1, 5, 20])
def test_a_cut_or_padded_body_is_left_to_fastavro(cut: int) -> None:
    flat = plan(SERDE.schema("tick"))
    assert flat is not None
    record = {"provider": "p", "instrument": "i", "kind": "trade", "exchange_ts": 1}
    body = flat.encode({**record, "received_ts": 2, "trade_id": "t-1", "bid_price": 1.5})
    with pytest.raises(Unplanned):
        flat.decode(body[:-cut])
    with pytest.raises(Unplanned):
        flat.decode(body + b"\x00" * cut)
