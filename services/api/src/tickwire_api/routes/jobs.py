"""/v1/jobs: the runs of the batch jobs as job_runs logs them, newest first, a page at a time,
as JSON, CSV or Parquet (paged like /v1/short-volume); /v1/jobs/latest: each job's last run."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Query, Response

from tickwire_api import deps
from tickwire_api.adapters import job_runs
from tickwire_api.adapters.export import MEDIA_TYPES, ExportFormat, encode
from tickwire_api.domain.cursor import CursorError, decode_key, encode_key, query_fingerprint
from tickwire_api.models.jobs import JobRun, JobRunPage, LatestJobRuns
from tickwire_api.routes.paging import NEXT_CURSOR_HEADER, Cursor, Format, paged_responses
from tickwire_api.routes.params import Limit, Time, checked_limit, invalid
from tickwire_api.routes.responses import raw_json
from tickwire_api.settings import ApiSettings

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


class RunStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    interrupted = "interrupted"


Job = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z][a-z0-9-]{0,31}$",
        description="One job's runs (backfill, lake-export, quality, migrate, topics-check); "
        "all when left out.",
        examples=["backfill"],
    ),
]
From = Annotated[
    Time | None,
    Query(
        alias="from",
        description="Runs started at or after this time, RFC 3339; open when left out.",
        examples=["2023-11-14T00:00:00Z"],
    ),
]
To = Annotated[
    Time | None,
    Query(
        description="Runs started before this time, RFC 3339; open when left out.",
        examples=["2023-11-15T00:00:00Z"],
    ),
]


@router.get(
    "",
    response_model=JobRunPage,
    summary="Runs of the batch jobs (backfill, lake export, quality, migrations, topic checks)",
    responses=paged_responses(JobRun, "newest run first"),
)
def runs(
    conn: Annotated[psycopg.Connection, Depends(deps.connection)],
    settings: Annotated[ApiSettings, Depends(deps.settings)],
    job: Job = None,
    status: Annotated[
        RunStatus | None, Query(description="Runs that ended so (or still run); all when left out.")
    ] = None,
    from_: From = None,
    to: To = None,
    limit: Limit = None,
    cursor: Cursor = None,
    format: Format = ExportFormat.json,
) -> Response:
    """Runs with `from <= started_at < to`, newest first; follow the next cursor for older ones.
    In CSV and Parquet `arguments` is a column of JSON text."""
    if from_ is not None and to is not None and to <= from_:
        raise invalid("to", f"to {to.isoformat()} is not after from {from_.isoformat()}")
    filters = {"job": job, "status": status and status.value, "from": from_, "to": to}
    fingerprint = query_fingerprint("jobs", *filters.values())
    after = None
    if cursor is not None:
        try:
            started_us, run_id = decode_key(cursor, fingerprint, (int, int))
        except CursorError as exc:
            raise invalid("cursor", str(exc)) from exc
        after = (int(started_us), int(run_id))
    page_limit = checked_limit(limit, settings.max_limit)
    found = job_runs.page(conn, filters, after, page_limit)
    next_cursor = None if found.last is None else encode_key(found.last, fingerprint)
    if format is ExportFormat.json:
        return raw_json(
            {
                "job": job,
                "status": filters["status"],
                "from": from_,
                "to": to,
                "limit": page_limit,
                "count": len(found.rows),
                "runs": found.dicts(),
                "next_cursor": next_cursor,
            }
        )
    body = b"".join(encode(format, found.columns, iter([found.rows])))
    headers = {} if next_cursor is None else {NEXT_CURSOR_HEADER: next_cursor}
    return Response(body, media_type=MEDIA_TYPES[format], headers=headers)


@router.get("/latest", response_model=LatestJobRuns, summary="The last run of each batch job")
def latest(conn: Annotated[psycopg.Connection, Depends(deps.connection)]) -> LatestJobRuns:
    """The newest run of every job that has run, by job name: what the dashboard's status panel
    and `tickwire status` show."""
    return LatestJobRuns(runs=[JobRun(**run) for run in job_runs.latest(conn)])
