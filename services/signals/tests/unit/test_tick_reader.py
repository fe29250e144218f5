"""The fast tick reader gives what the project's serde gives, for every kind of tick and every
schema version on record, and refuses what the serde refuses."""

import io
import json
from pathlib import Path

import fastavro
import pytest

from tickwire_core.errors import SerializationError
from tickwire_core.serde import MAGIC, AvroSerde, fingerprint
from tickwire_signals.adapters.tick_reader import TickReader
from tickwire_testing.ticks import quote, trade

SERDE = AvroSerde()
READER = TickReader(SERDE)


def every_field_set() -> dict:
    """A tick with a value in every field, of every type the schema uses."""
    declared = json.loads((SERDE.schema_dir / "tick.avsc").read_text())
    values = {"double": -1234.5678, "long": -(2**40) - 3, "string": "naïve €", "boolean": True}
    record = {}
    for field in declared["fields"]:
        kind = field["type"][1] if isinstance(field["type"], list) else field["type"]
        record[field["name"]] = values[kind["type"] if isinstance(kind, dict) else kind]
    return record


TICKS = [
    quote("BTC-USD", 1_800_000_000_000_000, 99.5, 100.5),
    trade("ETH-USD", 1_800_000_000_000_001, 2500.25, 0.125),
    quote("X", 0, 1e-9, 1e300, provider="v", history=True),
    {**quote("G", 5, 1.0, 2.0), "kind": "gap", "gap_reason": "reconnect", "gap_lost": 12},
    every_field_set(),
]


@pytest.mark.parametrize("tick", TICKS, ids=["quote", "trade", "history", "gap", "every-field"])
def test_a_current_tick_reads_as_the_serde_reads_it(tick):
    data = SERDE.encode("tick", tick)
    assert READER.decode(data) == SERDE.decode("tick", data)
    assert READER._read(data) == SERDE.decode("tick", data)  # without falling back


@pytest.mark.parametrize("version", sorted(Path(SERDE.schema_dir / "history/tick").glob("*.avsc")))
def test_a_tick_of_an_earlier_schema_reads_as_the_serde_reads_it(version):
    writer = json.loads(version.read_text())
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(writer), every_field_set())
    data = MAGIC + fingerprint(writer) + body.getvalue()
    assert READER.decode(data) == SERDE.decode("tick", data)


def corruptions() -> list[bytes]:
    data = SERDE.encode("tick", quote("BTC-USD", 1_800_000_000_000_000, 99.5, 100.5))
    bad_branch = bytearray(data)
    bad_branch[data.index(b"\x00" * 9)] = 4  # a null union's branch 2, which the schema lacks
    bad_text = data.replace(b"BTC-USD", b"BTC\xff\xfeSD")
    return [data[:-3], data + b"\x00", bytes(bad_branch), bad_text, b"", data[:12]]


@pytest.mark.parametrize("data", corruptions())
def test_what_the_serde_refuses_is_refused(data):
    with pytest.raises(SerializationError):
        SERDE.decode("tick", data)
    with pytest.raises(SerializationError):
        READER.decode(data)


def test_no_record_at_all_is_refused():
    with pytest.raises(SerializationError):
        READER.decode(None)
