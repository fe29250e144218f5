"""The lake export of one UTC day: summarise the day's partitions in the database, compare them
with the day's manifest, write what changed to staging, commit with the manifest, then publish.

Commit protocol (docs/lake.md): files are staged under `_days/<day>/staging-<run>/`, invisible to
readers; the manifest written in state `publishing` is the commit point; each staged file then
replaces its partition's `data.parquet` whole (a rename, or an S3 server-side copy), removed
partitions are deleted, and the manifest is rewritten `complete`. A run killed before the commit
point leaves the previous day untouched; one killed while publishing is finished by the next."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tickwire_jobs.adapters import lake_source
from tickwire_jobs.adapters.lake_files import PartitionFile
from tickwire_jobs.adapters.lake_schema import FileSchema, read_file_schema
from tickwire_jobs.adapters.lake_store import LakeStore
from tickwire_jobs.domain.lake_kinds import Kind
from tickwire_jobs.domain.lake_layout import (
    STAGED_SUFFIX,
    data_path,
    day_dir,
    manifest_path,
    staged_path,
    staging_dir,
)
from tickwire_jobs.domain.lake_manifest import (
    COMPLETE,
    PUBLISHING,
    FileEntry,
    KindSchema,
    Manifest,
    PartitionKey,
    PartitionState,
    plan_day,
)

logger = logging.getLogger("tickwire.jobs.lake")


@dataclass(frozen=True)
class DayResult:
    day: dt.date
    rows_written: int
    files_written: int
    files_removed: int
    files_kept: int
    skipped_kinds: tuple[str, ...] = ()

    @property
    def unchanged(self) -> bool:
        return self.files_written == 0 and self.files_removed == 0


def export_day(
    conn: psycopg.Connection[Any],
    store: LakeStore,
    day: dt.date,
    kinds: Iterable[Kind],
    *,
    version: str,
) -> DayResult:
    """Bring the lake's copy of `day` in line with the database for `kinds`."""
    run = uuid.uuid4().hex[:12]
    # One snapshot for the summary and the copy: both see the same rows, however the database
    # moves meanwhile (a row that lands later is for the next run).
    conn.rollback()
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    try:
        return _export(conn, store, day, kinds, version=version, run=run)
    finally:
        conn.rollback()


def _export(
    conn: psycopg.Connection[Any],
    store: LakeStore,
    day: dt.date,
    kinds: Iterable[Kind],
    *,
    version: str,
    run: str,
) -> DayResult:
    lake_source.prepare(conn)
    previous = store.read_manifest(manifest_path(day))
    if previous is not None and previous.state == PUBLISHING:
        logger.warning("lake day=%s: finishing the publish of run %s", day, previous.run)
        previous = publish(store, previous)
    for name in store.list_dirs(day_dir(day)):
        if name.startswith(("staging-", ".spool-")):  # a run killed before its commit point
            store.delete_dir(f"{day_dir(day)}/{name}")

    schemas: dict[str, FileSchema] = {}
    skipped: list[str] = []
    states: list[PartitionState] = []
    for kind in kinds:
        schema = read_file_schema(conn, kind)
        if schema is None:
            logger.info("lake day=%s: no table %s yet, kind %s skipped", day, kind.table, kind.name)
            skipped.append(kind.name)
            continue
        schemas[kind.name] = schema
        states.extend(lake_source.partition_states(conn, schema, day))
    plan = plan_day(previous, states, schemas)
    if plan.unchanged:
        logger.info("lake day=%s unchanged (%d files)", day, len(plan.keep))
        return DayResult(day, 0, 0, 0, len(plan.keep), tuple(skipped))

    written: list[FileEntry] = []
    with store.spool(day_dir(day)) as spool:
        for name, schema in schemas.items():
            wanted = {s.key: s for s in plan.write if s.key.kind == name}
            if wanted:
                written += _write_kind(conn, store, schema, day, wanted, run, len(written), spool)
    kinds_doc: dict[str, KindSchema] = dict(previous.kinds) if previous else {}
    kinds_doc.update({name: schema.fingerprints for name, schema in schemas.items()})
    manifest = Manifest(
        day=day,
        state=PUBLISHING,
        run=run,
        tickwire_version=version,
        written_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        files=tuple(sorted((*plan.keep, *written), key=lambda e: e.key)),
        kinds=kinds_doc,
        removed=tuple(entry.path for entry in plan.remove),
    )
    store.write_manifest(manifest_path(day), manifest)  # the commit point
    publish(store, manifest)
    rows = sum(entry.rows for entry in written)
    logger.info(
        "lake day=%s written files=%d rows=%d removed=%d kept=%d",
        day,
        len(written),
        rows,
        len(plan.remove),
        len(plan.keep),
    )
    return DayResult(day, rows, len(written), len(plan.remove), len(plan.keep), tuple(skipped))


def _write_kind(
    conn: psycopg.Connection[Any],
    store: LakeStore,
    schema: FileSchema,
    day: dt.date,
    wanted: dict[PartitionKey, PartitionState],
    run: str,
    first_index: int,
    spool: Path,
) -> list[FileEntry]:
    """Stream the kind's changed partitions into staged files, one after the other."""
    entries: list[FileEntry] = []
    arrow_schema = schema.arrow_schema()
    current: tuple[PartitionKey, PartitionFile] | None = None

    def finish() -> None:
        assert current is not None
        key, file = current
        done = file.close()
        state = wanted[key]
        if done.rows != state.rows:  # cannot happen within one snapshot; never commit it if so
            raise RuntimeError(
                f"{key.kind} {key.provider}/{key.instrument} on {day} summary and copy disagree "
                f"({state.rows} rows summarised, {done.rows} copied)"
            )
        staged = staged_path(day, run, first_index + len(entries))
        store.put(done.path, staged)
        path = data_path(key.provider, key.kind, key.instrument, day)
        entries.append(
            FileEntry(
                key,
                path,
                done.rows,
                state.min_time,
                state.max_time,
                state.content,
                done.sha256,
                done.bytes,
                staged=staged,
            )
        )

    try:
        for key, batch in lake_source.stream_partitions(conn, schema, day, wanted):
            if current is None or current[0] != key:
                if current is not None:
                    finish()
                current = (
                    key,
                    PartitionFile(spool / f"{len(entries):06d}{STAGED_SUFFIX}", arrow_schema),
                )
            current[1].add(batch)
        if current is not None:
            finish()
            current = None
    except BaseException:
        if current is not None:
            current[1].abort()
        raise
    return entries


def publish(store: LakeStore, manifest: Manifest) -> Manifest:
    """Put every staged file of a `publishing` manifest in its place, delete the removed ones and
    mark the manifest complete. Safe to repeat after a crash: a staged file already moved is
    skipped."""
    for entry in manifest.files:
        if entry.staged is not None and store.exists(entry.staged):
            store.move(entry.staged, entry.path)
    for path in manifest.removed:
        store.delete(path)
    complete = dataclasses.replace(
        manifest,
        state=COMPLETE,
        files=tuple(dataclasses.replace(e, staged=None) for e in manifest.files),
        removed=(),
    )
    store.write_manifest(manifest_path(manifest.day), complete)
    store.delete_dir(staging_dir(manifest.day, manifest.run))
    return complete
