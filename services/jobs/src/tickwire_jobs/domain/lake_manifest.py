"""A lake day's manifest (`_days/<day>/_manifest.json`: every file of the day with its rows, time
range, content fingerprint and checksum) and the plan that compares it with the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT = 1
# A manifest is written twice per change: `publishing` (the commit point: the new files are
# staged, the set is decided) and `complete` once every staged file is in its place.
PUBLISHING = "publishing"
COMPLETE = "complete"


class ManifestError(ValueError):
    """A manifest that does not parse or is of an unknown format."""


@dataclass(frozen=True, order=True)
class PartitionKey:
    kind: str
    provider: str
    instrument: str


@dataclass(frozen=True)
class PartitionState:
    """What the database holds for one partition of the day, summarised without reading it."""

    key: PartitionKey
    rows: int
    min_time: str
    max_time: str
    # Changes whenever a row, a column or the file's schema (types, docs) changes.
    content: str


@dataclass(frozen=True)
class FileEntry:
    """One file of the day as the manifest records it."""

    key: PartitionKey
    path: str
    rows: int
    min_time: str
    max_time: str
    content: str
    sha256: str
    bytes: int
    # Where the file waits while the manifest is `publishing`; None once it is in place.
    staged: str | None = None


@dataclass(frozen=True)
class KindSchema:
    """A kind's file schema: the Parquet columns' fingerprint and the Avro schema's."""

    schema_fingerprint: str
    avro_fingerprint: str | None


@dataclass(frozen=True)
class Manifest:
    day: dt.date
    state: str
    run: str
    tickwire_version: str
    written_at: str
    files: tuple[FileEntry, ...]
    kinds: Mapping[str, KindSchema] = field(default_factory=dict)
    # Files of the previous version that publishing removes (their rows left the database).
    removed: tuple[str, ...] = ()

    def rows_by_kind(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for entry in self.files:
            totals[entry.key.kind] = totals.get(entry.key.kind, 0) + entry.rows
        return totals

    def to_json(self) -> str:
        files = []
        for entry in self.files:
            item = asdict(entry)
            item.update(item.pop("key"))
            if entry.staged is None:
                del item["staged"]
            files.append(item)
        rows = self.rows_by_kind()
        kinds = {
            name: {"rows": rows.get(name, 0), **asdict(schema)}
            for name, schema in sorted(self.kinds.items())
        }
        document: dict[str, Any] = {
            "format": FORMAT,
            "day": self.day.isoformat(),
            "state": self.state,
            "run": self.run,
            "tickwire_version": self.tickwire_version,
            "written_at": self.written_at,
            "kinds": kinds,
            "files": files,
        }
        if self.removed:
            document["removed"] = list(self.removed)
        return json.dumps(document, indent=1, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            document = json.loads(text)
            if document.get("format") != FORMAT:
                raise ManifestError(f"manifest format {document.get('format')!r} is not {FORMAT}")
            files = []
            for item in document["files"]:
                key = PartitionKey(item.pop("kind"), item.pop("provider"), item.pop("instrument"))
                files.append(FileEntry(key=key, **item))
            kinds = {
                name: KindSchema(value["schema_fingerprint"], value["avro_fingerprint"])
                for name, value in document["kinds"].items()
            }
            return cls(
                day=dt.date.fromisoformat(document["day"]),
                state=document["state"],
                run=document["run"],
                tickwire_version=document["tickwire_version"],
                written_at=document["written_at"],
                files=tuple(files),
                kinds=kinds,
                removed=tuple(document.get("removed", ())),
            )
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ManifestError(f"manifest does not parse: {exc}") from exc


@dataclass(frozen=True)
class DayPlan:
    """What an export of one day does: files to write, files kept as they are, files removed."""

    write: tuple[PartitionState, ...]
    keep: tuple[FileEntry, ...]
    remove: tuple[FileEntry, ...]

    @property
    def unchanged(self) -> bool:
        return not self.write and not self.remove


def plan_day(
    previous: Manifest | None, current: Iterable[PartitionState], kinds: Iterable[str]
) -> DayPlan:
    """Compare the database's partitions of the day (for the exported `kinds`) with the previous
    manifest: a partition whose content fingerprint is unchanged keeps its file; one that is new or
    changed is written; one the database no longer has is removed. Files of kinds not exported
    this time are kept as they are."""
    exported = set(kinds)
    before = {entry.key: entry for entry in previous.files} if previous else {}
    write: list[PartitionState] = []
    keep: list[FileEntry] = []
    remove: list[FileEntry] = []
    now = {state.key: state for state in current}
    for key, state in sorted(now.items()):
        old = before.get(key)
        if old is not None and old.content == state.content and old.staged is None:
            keep.append(old)
        else:
            write.append(state)
    for key, entry in sorted(before.items()):
        if key in now:
            continue
        (remove if key.kind in exported else keep).append(entry)
    return DayPlan(tuple(write), tuple(keep), tuple(remove))


def content_fingerprint(rows: int, row_digest: str, schema_fingerprint: str) -> str:
    """A partition's content: its row count, the order-free digest of its rows' text (summed in
    the database) and its file schema."""
    text = f"{rows}:{row_digest}:{schema_fingerprint}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def schema_fingerprint(columns: Iterable[tuple[str, str, str]]) -> str:
    """Fingerprint of a file schema given as (name, type, doc) triples, in column order."""
    text = json.dumps([list(column) for column in columns])
    return hashlib.sha256(text.encode()).hexdigest()[:16]
