"""Avro binary bodies of flat records (primitive fields, optional ones as ["null", T]) encoded and
decoded by a plan built once per schema: fastavro's bytes and values, without its per-field work.

fastavro walks the schema on every record and tries each branch of every union in turn, which for
the 56-field tick costs more than the rest of normalize's work on it. A plan only handles the
values it is sure of (exact Python types, whole bodies): for anything else it raises Unplanned and
the serde hands the record to fastavro, which writes it, reads it, or says what is wrong with it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

from tickwire_core.avro_types import field_type
from tickwire_core.errors import SchemaError

_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_DOUBLE = struct.Struct("<d")
_BRANCH_AND_DOUBLE = struct.Struct("<Bd")
_FLOAT = struct.Struct("<f")
_NULL = b"\x00"  # branch 0 of ["null", T], as a zig-zag varint
_NOT_NULL = b"\x02"  # branch 1
_ONE_BYTE = [bytes((n,)) for n in range(0x80)]

Writer = Callable[[Any], bytes]
Reader = Callable[[bytes, int], tuple[Any, int]]


class Unplanned(Exception):  # a hand-over, not an error: fastavro decides
    """A value or body the plan leaves to fastavro."""


def _varint(n: int) -> bytes:
    if n < 0x80:
        return _ONE_BYTE[n]
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _write_long(value: Any) -> bytes:
    if type(value) is not int or not _LONG_MIN <= value <= _LONG_MAX:
        raise Unplanned
    return _varint((value << 1) ^ (value >> 63))


def _write_int(value: Any) -> bytes:
    if type(value) is not int or not _INT_MIN <= value <= _INT_MAX:
        raise Unplanned
    return _varint((value << 1) ^ (value >> 63))


def _write_double(value: Any) -> bytes:
    if type(value) is not float:  # an int or a numpy value: fastavro's own rules apply
        raise Unplanned
    return _DOUBLE.pack(value)


def _write_float(value: Any) -> bytes:
    if type(value) is not float:
        raise Unplanned
    return _FLOAT.pack(value)


def _write_string(value: Any) -> bytes:
    if type(value) is not str:
        raise Unplanned
    data = value.encode()  # a lone surrogate raises: fastavro then says why
    return _varint(len(data) << 1) + data


def _write_bytes(value: Any) -> bytes:
    if type(value) is not bytes:
        raise Unplanned
    return _varint(len(value) << 1) + value


def _write_boolean(value: Any) -> bytes:
    if type(value) is not bool:
        raise Unplanned
    return b"\x01" if value else b"\x00"


def _read_long(data: bytes, pos: int) -> tuple[int, int]:
    byte = data[pos]
    n, shift = byte & 0x7F, 7
    while byte & 0x80:
        if shift > 63:
            raise Unplanned  # longer than any long: fastavro says what is wrong
        pos += 1
        byte = data[pos]
        n |= (byte & 0x7F) << shift
        shift += 7
    value = (n >> 1) ^ -(n & 1)
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise Unplanned
    return value, pos + 1


def _read_size(data: bytes, pos: int) -> tuple[int, int]:
    """A string's or bytes' length and where its content starts (one byte for lengths < 64)."""
    byte = data[pos]
    if byte < 0x80 and not byte & 1:
        size, pos = byte >> 1, pos + 1
    else:
        size, pos = _read_long(data, pos)
    if size < 0 or pos + size > len(data):
        raise Unplanned
    return size, pos


def _read_int(data: bytes, pos: int) -> tuple[int, int]:
    value, pos = _read_long(data, pos)
    if not _INT_MIN <= value <= _INT_MAX:
        raise Unplanned
    return value, pos


def _read_double(data: bytes, pos: int) -> tuple[float, int]:
    return _DOUBLE.unpack_from(data, pos)[0], pos + 8


def _read_float(data: bytes, pos: int) -> tuple[float, int]:
    return _FLOAT.unpack_from(data, pos)[0], pos + 4


def _read_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    size, pos = _read_size(data, pos)
    return data[pos : pos + size], pos + size


def _read_string(data: bytes, pos: int) -> tuple[str, int]:
    size, pos = _read_size(data, pos)
    return data[pos : pos + size].decode(), pos + size


def _read_boolean(data: bytes, pos: int) -> tuple[bool, int]:
    byte = data[pos]
    if byte > 1:
        raise Unplanned
    return byte == 1, pos + 1


_CODECS: dict[str, tuple[Writer, Reader]] = {
    "long": (_write_long, _read_long),
    "int": (_write_int, _read_int),
    "double": (_write_double, _read_double),
    "float": (_write_float, _read_float),
    "string": (_write_string, _read_string),
    "bytes": (_write_bytes, _read_bytes),
    "boolean": (_write_boolean, _read_boolean),
}


def _write_optional_double(value: Any) -> bytes:
    # Most of a tick's fields: one call where the general optional writer makes two.
    if value is None:
        return _NULL
    if type(value) is not float:
        raise Unplanned
    return _BRANCH_AND_DOUBLE.pack(2, value)


def _optional_writer(write: Writer) -> Writer:
    if write is _write_double:
        return _write_optional_double

    def write_optional(value: Any) -> bytes:
        return _NULL if value is None else _NOT_NULL + write(value)

    return write_optional


def _read_optional_double(data: bytes, pos: int) -> tuple[float | None, int]:
    branch = data[pos]
    if branch == 0:
        return None, pos + 1
    if branch != 2:
        raise Unplanned
    return _DOUBLE.unpack_from(data, pos + 1)[0], pos + 9


def _optional_reader(read: Reader) -> Reader:
    if read is _read_double:
        return _read_optional_double

    def read_optional(data: bytes, pos: int) -> tuple[Any, int]:
        branch = data[pos]
        if branch == 0:
            return None, pos + 1
        if branch != 2:
            raise Unplanned
        return read(data, pos + 1)

    return read_optional


class FlatRecord:
    """The encode and decode plan of one record schema (as fastavro parses it); raises SchemaError
    from the constructor when the schema is not flat (a map, an array, a wider union)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._template: list[bytes] = []  # each field's bytes when the record leaves it out
        self._slots: dict[str, tuple[int, Writer]] = {}
        self._required: set[str] = set()
        self._readers: list[tuple[str, Reader]] = []
        if schema.get("type") != "record":
            raise SchemaError("not a record")
        for index, field in enumerate(schema["fields"]):
            declared = field["type"]
            if isinstance(declared, list) and declared[0] != "null":
                raise SchemaError(f"{field['name']}: null must be the union's first branch")
            kind = field_type(declared)
            if kind.name not in _CODECS:  # a map, array, record, enum, fixed or named type
                raise SchemaError(f"{field['name']}: {kind.name} is not a flat field")
            write, read = _CODECS[kind.name]
            if kind.optional:
                write, read = _optional_writer(write), _optional_reader(read)
            self._slots[field["name"]] = (index, write)
            self._readers.append((field["name"], read))
            if "default" in field:
                self._template.append(write(field["default"]))
            elif kind.optional:  # fastavro writes a missing optional field as null
                self._template.append(_NULL)
            else:
                self._template.append(b"")
                self._required.add(field["name"])

    def encode(self, record: Mapping[str, Any]) -> bytes:
        """The Avro body of `record`; fields it leaves out take their defaults, keys the schema
        does not name are ignored (as fastavro does)."""
        if not record.keys() >= self._required:
            raise Unplanned
        parts = self._template.copy()
        slots = self._slots
        try:
            for name, value in record.items():
                slot = slots.get(name)
                if slot is not None:
                    parts[slot[0]] = slot[1](value)
        except (UnicodeEncodeError, struct.error):
            raise Unplanned from None  # fastavro words the error
        return b"".join(parts)

    def decode(self, data: bytes, pos: int = 0) -> dict[str, Any]:
        """The record in `data` from `pos` to its very end."""
        record = {}
        try:
            for name, read in self._readers:
                record[name], pos = read(data, pos)
        except (IndexError, struct.error, UnicodeDecodeError):
            raise Unplanned from None  # a cut or corrupt body: fastavro words the error
        if pos != len(data):
            raise Unplanned
        return record


def plan(schema: Mapping[str, Any]) -> FlatRecord | None:
    """The plan of `schema`, or None when it is not flat (fastavro then does all the work)."""
    try:
        return FlatRecord(schema)
    except (SchemaError, Unplanned):
        return None
