"""The daily quality report job: for each UTC day asked for, read what is stored about it, compute
each provider's and instrument's row against its calendar, and replace the day's rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg

from tickwire_jobs.adapters import exchange_sessions
from tickwire_jobs.adapters.quality_store import Scope, read_facts, replace_day
from tickwire_jobs.domain.quality import UNATTRIBUTED, QualityRow, quality_row
from tickwire_jobs.domain.sessions import CalendarMap


def days(first: date, last: date) -> Iterator[date]:
    """first to last, both included."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def report_day(
    conn: psycopg.Connection[Any],
    scope: Scope,
    calendars: CalendarMap,
    version: str,
    bounds: tuple[date, date] | None = None,
) -> list[QualityRow]:
    """Compute and store the scope's rows of one day; `bounds` (the run's first and last day)
    lets each calendar be built once for a run of many days."""
    first, last = bounds or (scope.day, scope.day)
    rows = []
    # One transaction: the rows are computed from one state of the tables and replace the old
    # ones at once, so a reader never sees a day half replaced.
    with conn.transaction():
        for (provider, instrument), facts in sorted(read_facts(conn, scope).items()):
            if instrument == UNATTRIBUTED:
                session = None
            else:
                name = calendars.calendar_of(provider, instrument)
                session = exchange_sessions.session(name, scope.day, first, last)
            rows.append(quality_row(provider, instrument, scope.day, session, facts, version))
        replace_day(conn, scope, rows)
    return rows
