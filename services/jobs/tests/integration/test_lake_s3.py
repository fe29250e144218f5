"""`tickwire lake export` to the S3-compatible store the suite runs (SeaweedFS), configured by the
standard AWS variables alone: read back equal through pyarrow's S3 file system and DuckDB; a
rerun rewrites no object; a late row rewrites its day."""

from __future__ import annotations

import datetime as dt
import time

import psycopg
import pytest

from tickwire_jobs.domain.lake_kinds import KINDS
from tickwire_testing.cli import Tickwire
from tickwire_testing.lake import database_rows, s3_lake_rows
from tickwire_testing.objectstore import S3Bucket

from .conftest import DAY, T0, seed_day, tick_rows

pytestmark = pytest.mark.integration


def test_a_day_in_s3_reads_back_equal_and_reruns_are_no_ops(
    cli: Tickwire, lake_db: str, s3_bucket: S3Bucket
) -> None:
    seed_day(lake_db)
    aws = cli.with_env(**s3_bucket.store.environ())
    url = f"{s3_bucket.url}/lake"
    [line] = aws.json_lines("lake", "export", "--day", DAY.isoformat(), "--to", url)
    assert line["files_written"] > 0

    s3 = s3_bucket.store.filesystem()
    root = f"{s3_bucket.name}/lake"
    for kind in KINDS:
        assert s3_lake_rows(s3, root, kind, DAY) == database_rows(lake_db, kind, DAY), kind.name
    objects = s3_bucket.keys()
    assert "lake/_days/2026-03-05/_manifest.json" in objects
    assert not [key for key in objects if "staging-" in key or key.endswith(".tmp")]

    time.sleep(1.1)  # S3 keeps modification times in whole seconds: a rewrite would show
    [again] = aws.json_lines("lake", "export", "--day", DAY.isoformat(), "--to", url)
    assert (again["files_written"], again["files_removed"]) == (0, 0)
    assert s3_bucket.keys() == objects

    with psycopg.connect(lake_db, autocommit=True) as conn:
        conn.execute(tick_rows("ETH-USD", T0 + dt.timedelta(hours=5), 1))
    [late] = aws.json_lines("lake", "export", "--day", DAY.isoformat(), "--to", url)
    assert late["files_written"] == 1
    ticks = next(k for k in KINDS if k.name == "ticks")
    assert s3_lake_rows(s3, root, ticks, DAY) == database_rows(lake_db, ticks, DAY)
    changed = {key for key, stamp in s3_bucket.keys().items() if objects.get(key) != stamp}
    assert changed == {
        "lake/provider=coinbase/type=ticks/instrument=ETH-USD/year=2026/month=3/day=5/data.parquet",
        "lake/_days/2026-03-05/_manifest.json",
    }
