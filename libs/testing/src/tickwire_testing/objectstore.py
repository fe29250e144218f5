"""The suite's S3 endpoint as tests use it: its address and keys, the standard AWS variables that
point a child process at it, pyarrow's file system on it, and a fresh bucket per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyarrow import fs  # type: ignore[import-untyped]


@dataclass(frozen=True)
class ObjectStore:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str

    def environ(self) -> dict[str, str]:
        """AWS_* variables for boto3, pyarrow, DuckDB and the `tickwire` command."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
        }

    def filesystem(self) -> fs.S3FileSystem:
        scheme, _, address = self.endpoint_url.partition("://")
        return fs.S3FileSystem(
            endpoint_override=address,
            scheme=scheme,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.region,
            allow_bucket_creation=True,
            allow_bucket_deletion=True,
        )


@dataclass(frozen=True)
class S3Bucket:
    store: ObjectStore
    name: str

    @property
    def url(self) -> str:
        return f"s3://{self.name}"

    def keys(self) -> dict[str, str]:
        """Every object's key (below the bucket) and its ETag-like identity: path -> mtime+size,
        so a test sees which objects a run rewrote."""
        s3 = self.store.filesystem()
        selector = fs.FileSelector(self.name, recursive=True)
        return {
            info.path.removeprefix(f"{self.name}/"): f"{info.mtime_ns}:{info.size}"
            for info in s3.get_file_info(selector)
            if info.type == fs.FileType.File
        }


@contextmanager
def new_bucket(store: ObjectStore) -> Iterator[S3Bucket]:
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3 = store.filesystem()
    s3.create_dir(name)
    try:
        yield S3Bucket(store, name)
    finally:
        s3.delete_dir(name)
