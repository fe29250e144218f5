"""Where things live in the lake: the hive partition path of a day's file for one provider, kind
and instrument, the per-day folder with its manifest and staging area, and the path encoding."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, unquote

DATA_FILE = "data.parquet"
DAYS_DIR = "_days"
MANIFEST = "_manifest.json"
STAGED_SUFFIX = ".pending"


def encode_segment(value: str) -> str:
    """A partition value as one path segment, reversibly: percent-encoding (UTF-8) of everything
    but ASCII letters, digits and `-._~`, as URIs do, which DuckDB, pyarrow and polars decode
    when they read hive partitions. A leading `.` or `_` is encoded too: readers skip files and
    folders that start with them."""
    encoded = quote(value, safe="")
    if encoded[:1] in (".", "_"):
        encoded = f"%{ord(encoded[0]):02X}{encoded[1:]}"
    return encoded


def decode_segment(segment: str) -> str:
    return unquote(segment, errors="strict")


def partition_dir(provider: str, kind: str, instrument: str, day: dt.date) -> str:
    """`provider=/type=/instrument=/year=/month=/day=`, numbers without leading zeros so that
    readers type year, month and day as integers."""
    return (
        f"provider={encode_segment(provider)}/type={encode_segment(kind)}/"
        f"instrument={encode_segment(instrument)}/"
        f"year={day.year}/month={day.month}/day={day.day}"
    )


def data_path(provider: str, kind: str, instrument: str, day: dt.date) -> str:
    """The one file of a partition: a fixed name, replaced whole when the partition changes."""
    return f"{partition_dir(provider, kind, instrument, day)}/{DATA_FILE}"


def day_dir(day: dt.date) -> str:
    """The day's bookkeeping folder: its manifest and its staging area. The leading `_` keeps it
    out of pyarrow's dataset discovery; nothing in it ends in `.parquet`."""
    return f"{DAYS_DIR}/{day.isoformat()}"


def manifest_path(day: dt.date) -> str:
    return f"{day_dir(day)}/{MANIFEST}"


def staging_dir(day: dt.date, run: str) -> str:
    return f"{day_dir(day)}/staging-{run}"


def staged_path(day: dt.date, run: str, index: int) -> str:
    """A file written by run `run` before its commit: never matched by `*.parquet` globs."""
    return f"{staging_dir(day, run)}/{index:06d}{STAGED_SUFFIX}"


def utc_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC day as a half-open interval [start, end)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """first..last inclusive; empty when last is before first."""
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
