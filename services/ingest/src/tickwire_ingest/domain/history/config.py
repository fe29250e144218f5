"""The nightly backfill file: one TOML file of [[job]] tables, each what one `tickwire backfill`
would be given on its command line. Parsed and checked whole before any job runs."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from tickwire_ingest.domain.history.plan import INTERVALS, PlanError, parse_time

_KEYS = {"source", "instruments", "interval", "trades", "since", "until", "restart"}


@dataclass(frozen=True)
class Job:
    source: str
    instruments: tuple[str, ...]  # empty: all (a grouped source's `*`)
    interval: str | None = None
    trades: bool = False
    since: int | None = None  # UTC µs
    until: int | None = None
    restart: bool = False


def parse_jobs(text: str, where: str = "config") -> list[Job]:
    """Jobs in file order, or PlanError naming the job and the key at fault."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{where}: not TOML: {exc}") from None
    unknown = set(document) - {"job"}
    if unknown:
        raise PlanError(f"{where}: unknown table or key {sorted(unknown)[0]!r}; jobs are [[job]]")
    tables = document.get("job", [])
    if not isinstance(tables, list) or not tables:
        raise PlanError(f"{where}: no [[job]] tables")
    return [_job(table, f"{where}: job {n}") for n, table in enumerate(tables, start=1)]


def _job(table: dict[str, Any], where: str) -> Job:
    unknown = set(table) - _KEYS
    if unknown:
        raise PlanError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    source = table.get("source")
    if not isinstance(source, str) or not source:
        raise PlanError(f"{where}: `source` is required (a string)")
    instruments = table.get("instruments", [])
    if isinstance(instruments, str):
        instruments = [name.strip() for name in instruments.split(",") if name.strip()]
    if not isinstance(instruments, list) or not all(isinstance(n, str) for n in instruments):
        raise PlanError(f"{where}: `instruments` is a list of names or a comma-separated string")
    interval = table.get("interval")
    if interval is not None and interval not in INTERVALS:
        raise PlanError(f"{where}: interval {interval!r}: choose one of {', '.join(INTERVALS)}")
    for flag in ("trades", "restart"):
        if not isinstance(table.get(flag, False), bool):
            raise PlanError(f"{where}: `{flag}` is true or false")
    return Job(
        source=source,
        instruments=tuple(instruments),
        interval=interval,
        trades=table.get("trades", False),
        since=_time(table, "since", where),
        until=_time(table, "until", where),
        restart=table.get("restart", False),
    )


def _time(table: dict[str, Any], key: str, where: str) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    # TOML has dates and date-times of its own; a string is read like the command line's.
    text = value.isoformat() if hasattr(value, "isoformat") else value
    if not isinstance(text, str):
        raise PlanError(f"{where}: `{key}` is a date or a date-time")
    try:
        return parse_time(text, key)
    except PlanError as exc:
        raise PlanError(f"{where}: {exc}") from None
