import pytest

from tickwire_core.avro_types import FieldType, field_type
from tickwire_core.errors import SchemaError


def test_a_plain_type_is_required() -> None:
    assert field_type("string") == FieldType("string", optional=False)


def test_a_type_written_as_an_object_is_its_name() -> None:
    timestamp = {"type": "long", "logicalType": "timestamp-micros"}
    assert field_type(timestamp) == FieldType("long", optional=False)


def test_a_union_with_null_is_the_other_type_and_optional() -> None:
    assert field_type(["null", "double"]) == FieldType("double", optional=True)
    assert field_type(["string", "null"]) == FieldType("string", optional=True)


def test_an_optional_object_type_is_unwrapped_twice() -> None:
    timestamp = {"type": "long", "logicalType": "timestamp-micros"}
    assert field_type(["null", timestamp]) == FieldType("long", optional=True)
    assert field_type(["null", {"type": "map", "values": "string"}]) == FieldType(
        "map", optional=True
    )


@pytest.mark.parametrize("union", [["null", "string", "long"], ["string", "long"], ["null"]])
def test_a_wider_union_is_refused(union: list[str]) -> None:
    with pytest.raises(SchemaError, match="not null and one other type"):
        field_type(union)
