"""LocalObjectStore against the real thing: SeaweedFS's `weed mini` from the binary that
scripts/install-seaweedfs.sh builds (a no-op once built), in a temporary folder, on free ports."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from pyarrow import fs  # type: ignore[import-untyped]

from tickwire_core.localstack._process import pid_alive, port_open
from tickwire_core.localstack.objectstore import REGION, LocalObjectStore

pytestmark = pytest.mark.integration


def test_serves_s3_with_its_keys_and_stops_on_sigterm(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "s3", bucket="lake")
    store.start()
    try:
        pid = store.running_pid
        assert pid is not None and pid_alive(pid, "weed")
        address = store.endpoint_url.removeprefix("http://")
        s3 = fs.S3FileSystem(
            endpoint_override=address,
            scheme="http",
            access_key=store.access_key,
            secret_key=store.secret_key,
            region=REGION,
        )
        table = pa.table({"price": [1.5, 2.5], "instrument": ["BTC/USD", "ETH-USD"]})
        pq.write_table(table, "lake/a/b.parquet", filesystem=s3)
        assert pq.read_table("lake/a/b.parquet", filesystem=s3).equals(table)

        wrong = fs.S3FileSystem(
            endpoint_override=address,
            scheme="http",
            access_key=store.access_key,
            secret_key="not-the-secret",
            region=REGION,
        )
        with pytest.raises(OSError):
            pq.read_table("lake/a/b.parquet", filesystem=wrong)
    finally:
        store.stop()
    assert not pid_alive(pid, "weed")
    assert not port_open(store.s3_port)
    assert store.running_pid is None
