"""The publish step against a real folder: what a run killed after its commit point leaves (a
`publishing` manifest, some files staged, some already in place) is finished by running the
step again, which ends with the new day in place and the staging gone."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tickwire_jobs.adapters.lake_store import LakeStore
from tickwire_jobs.domain.lake_layout import data_path, manifest_path, staged_path, staging_dir
from tickwire_jobs.domain.lake_manifest import (
    COMPLETE,
    PUBLISHING,
    FileEntry,
    KindSchema,
    Manifest,
    PartitionKey,
)
from tickwire_jobs.lake_export import publish

pytestmark = pytest.mark.integration

DAY = dt.date(2026, 3, 5)


def test_a_publish_cut_short_is_finished_by_the_next(tmp_path: Path) -> None:
    store = LakeStore.from_url(str(tmp_path))
    keys = [PartitionKey("ticks", "coinbase", name) for name in ("BTC/USD", "ETH-USD")]
    gone = data_path("coinbase", "ticks", "SOL-USD", DAY)
    for path in (gone, *(data_path(k.provider, k.kind, k.instrument, DAY) for k in keys)):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("old")
    entries = []
    for index, key in enumerate(keys):
        staged = staged_path(DAY, "run1", index)
        (tmp_path / staged).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / staged).write_text(f"new {key.instrument}")
        path = data_path(key.provider, key.kind, key.instrument, DAY)
        entries.append(FileEntry(key, path, 1, "t0", "t1", "c", "s", 5, staged=staged))
    manifest = Manifest(
        DAY,
        PUBLISHING,
        "run1",
        "1.0",
        "now",
        tuple(entries),
        {"ticks": KindSchema("f", None)},
        removed=(gone,),
    )
    store.write_manifest(manifest_path(DAY), manifest)
    # The killed run had moved the first file already.
    store.move(entries[0].staged or "", entries[0].path)

    done = publish(store, manifest)
    again = publish(store, done)

    assert done.state == again.state == COMPLETE
    assert all(entry.staged is None for entry in done.files)
    for key in keys:
        path = tmp_path / data_path(key.provider, key.kind, key.instrument, DAY)
        assert path.read_text() == f"new {key.instrument}"
    assert not (tmp_path / gone).exists()
    assert not (tmp_path / gone).parent.exists()  # no empty partition folder left behind
    assert not (tmp_path / staging_dir(DAY, "run1")).exists()
    on_disk = json.loads((tmp_path / manifest_path(DAY)).read_text())
    assert on_disk["state"] == COMPLETE and "removed" not in on_disk
    assert Manifest.from_json((tmp_path / manifest_path(DAY)).read_text()) == done
