"""A schema field's Avro type as a plain name and whether it may be null: the ["null", T] union of
an optional field unwrapped to T, a type written as an object ({"type": "long"}) to its name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tickwire_core.errors import SchemaError


@dataclass(frozen=True)
class FieldType:
    name: str
    """The primitive or complex type: "string", "double", "long", "map", ..."""
    optional: bool
    """The field's type is a union with "null"."""


def field_type(avro_type: Any) -> FieldType:
    """The type of a field as declared or parsed; only unions of null and one other type (the
    only ones the schemas use) are understood, anything wider is refused rather than guessed."""
    optional = isinstance(avro_type, list)
    if optional:
        others = [branch for branch in avro_type if branch != "null"]
        if len(others) != 1 or len(avro_type) != 2:
            raise SchemaError(f"union {avro_type!r} is not null and one other type")
        avro_type = others[0]
    if isinstance(avro_type, dict):
        avro_type = avro_type["type"]
    return FieldType(str(avro_type), optional)
