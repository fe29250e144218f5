"""The one Avro serde: records from schemas/*.avsc, written as Avro single-object encoding
(marker C3 01, 8-byte CRC-64-AVRO fingerprint, binary body), so any Avro library can read them."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import fastavro
import fastavro.schema

from tickwire_core.errors import SchemaError, SerializationError
from tickwire_core.flat_records import FlatRecord, Unplanned, plan

MAGIC = b"\xc3\x01"
_HEADER_LEN = 10


def default_schema_dir() -> Path:
    """schemas/ at the repository root (the images copy it to the same relative place)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "schemas"
        if (candidate / "tick.avsc").is_file():
            return candidate
    raise SchemaError(f"no schemas/ directory above {here} (images keep it at /app/schemas)")


def _strip_logical_types(node: Any) -> Any:
    # Timestamps travel as plain UTC-microsecond longs through the whole pipeline; letting fastavro
    # turn them into datetime objects would cost time on every record and lose nothing to avoid.
    if isinstance(node, dict):
        return {k: _strip_logical_types(v) for k, v in node.items() if k != "logicalType"}
    if isinstance(node, list):
        return [_strip_logical_types(v) for v in node]
    return node


def fingerprint(schema: Any) -> bytes:
    """CRC-64-AVRO of the schema's parsing canonical form, as single-object encoding writes it."""
    canonical = fastavro.schema.to_parsing_canonical_form(schema)
    return bytes.fromhex(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO"))


def _load(path: Path) -> tuple[bytes, Any]:
    try:
        raw = json.loads(path.read_text())
        return fingerprint(raw), fastavro.parse_schema(_strip_logical_types(raw))
    except (OSError, ValueError, fastavro.schema.SchemaParseException) as exc:
        raise SchemaError(f"schema {path.name} does not parse: {exc}") from exc


class AvroSerde:
    """Encode and decode the records named by their schema file (`tick`, `raw_tick`, ...)."""

    def __init__(self, schema_dir: Path | None = None) -> None:
        self.schema_dir = schema_dir or default_schema_dir()
        self._parsed: dict[str, Any] = {}
        self._fingerprint: dict[str, bytes] = {}
        self._by_fingerprint: dict[bytes, Any] = {}
        # Flat records (every tick, raw record, bar) go through a plan built once per schema, and
        # through fastavro whatever the plan leaves to it (see flat_records).
        self._header: dict[str, bytes] = {}
        self._flat: dict[str, FlatRecord] = {}
        for path in sorted(self.schema_dir.glob("*.avsc")):
            fingerprint, parsed = _load(path)
            self._parsed[path.stem] = parsed
            self._fingerprint[path.stem] = fingerprint
            self._by_fingerprint[fingerprint] = parsed
            self._header[path.stem] = MAGIC + fingerprint
            flat = plan(parsed)
            if flat is not None:
                self._flat[path.stem] = flat
        if not self._parsed:
            raise SchemaError(f"no *.avsc files in {self.schema_dir}")
        # Earlier versions (schemas/history/<name>/*.avsc) stay readable as writer schemas, so
        # records still on a topic from before a schema change decode after an upgrade.
        for path in sorted(self.schema_dir.glob("history/*/*.avsc")):
            fingerprint, parsed = _load(path)
            self._by_fingerprint.setdefault(fingerprint, parsed)

    def can_read(self, fingerprint: bytes) -> bool:
        """True if records written with the schema of this fingerprint decode."""
        return fingerprint in self._by_fingerprint

    @property
    def names(self) -> list[str]:
        return sorted(self._parsed)

    def time_fields(self, name: str) -> frozenset[str]:
        """Fields of record `name` declared as timestamp-micros (decoded as plain microseconds)."""
        declared = json.loads((self.schema_dir / f"{name}.avsc").read_text())
        found = set()
        for item in declared["fields"]:
            types = item["type"] if isinstance(item["type"], list) else [item["type"]]
            if any(
                isinstance(t, dict) and t.get("logicalType") == "timestamp-micros" for t in types
            ):
                found.add(item["name"])
        return frozenset(found)

    def schema(self, name: str) -> Any:
        try:
            return self._parsed[name]
        except KeyError:
            raise SchemaError(f"unknown schema {name!r}; known: {', '.join(self.names)}") from None

    def encode(self, name: str, record: Mapping[str, Any]) -> bytes:
        flat = self._flat.get(name)
        if flat is not None:
            try:
                return self._header[name] + flat.encode(record)
            except Unplanned:
                pass  # fastavro writes it, or says why it cannot be written
        schema = self.schema(name)
        out = io.BytesIO()
        out.write(MAGIC)
        out.write(self._fingerprint[name])
        try:
            fastavro.schemaless_writer(out, schema, record)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise SerializationError(f"cannot encode {name}: {exc}") from exc
        return out.getvalue()

    def decode(self, name: str, data: bytes | None) -> dict[str, Any]:
        """Decode `data` into the current `name` schema, resolving from the writer's schema."""
        reader = self.schema(name)
        if data is None or len(data) < _HEADER_LEN or data[:2] != MAGIC:
            raise SerializationError(
                f"not an Avro single-object {name} record (bad or missing header)"
            )
        flat = self._flat.get(name)
        if flat is not None and type(data) is bytes and data.startswith(self._header[name]):
            try:
                return flat.decode(data, _HEADER_LEN)
            except Unplanned:
                pass  # a body fastavro reads, or says what is wrong with
        writer = self._by_fingerprint.get(bytes(data[2:_HEADER_LEN]))
        if writer is None:
            raise SerializationError(
                f"{name} record written with an unknown schema (fingerprint {data[2:10].hex()})"
            )
        try:
            body = io.BytesIO(data[_HEADER_LEN:])
            record = fastavro.schemaless_reader(body, writer, reader)
        except Exception as exc:  # fastavro raises many types for truncated or corrupt bodies
            raise SerializationError(f"cannot decode {name}: {type(exc).__name__}: {exc}") from exc
        if body.tell() != len(data) - _HEADER_LEN:
            raise SerializationError(f"cannot decode {name}: trailing bytes after the record")
        if not isinstance(record, dict):
            raise SerializationError(f"cannot decode {name}: not a record")
        return record
