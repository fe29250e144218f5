"""Response models of /v1/jobs: the runs of the batch jobs (backfill, lake export, quality,
migrations, topic checks) as job_runs logs them, a page at a time, and the last run of each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tickwire_api.models.examples import example, examples


class JobRun(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "id": 412,
                "job": "backfill",
                "status": "succeeded",
                "started_at": "2023-11-14T02:30:00.512Z",
                "finished_at": "2023-11-14T02:41:07.204Z",
                "duration_s": 666.692,
                "rows": 182400,
                "error": None,
                "host": "tickwire-backfill-28334190-x7k2p",
                "arguments": {"config": "/etc/tickwire/backfill/nightly.toml"},
            }
        )
    )
    id: int
    job: str = Field(description="backfill, lake-export, quality, migrate or topics-check.")
    status: str = Field(
        description="running, succeeded, failed or interrupted (Ctrl-C or SIGTERM). A run "
        "killed outright stays running: its duration_s keeps growing."
    )
    started_at: datetime
    finished_at: datetime | None
    duration_s: float = Field(description="finished_at - started_at, or until now while running.")
    rows: int | None = Field(
        description="The job's output size: records published (backfill), rows written (lake "
        "export, quality), migrations applied, topics created or compared."
    )
    error: str | None = Field(description="Why it failed or what stopped it.")
    host: str | None = Field(description="Where it ran (a pod's name in Kubernetes).")
    arguments: dict[str, Any] = Field(description="What the run was asked to do.")


class JobRunPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "job": "backfill",
                "status": None,
                "from": "2023-11-01T00:00:00Z",
                "to": None,
                "limit": 100,
                "count": 1,
                "runs": [example(JobRun)],
                "next_cursor": None,
            }
        ),
        populate_by_name=True,
    )
    job: str | None
    status: str | None
    from_: datetime | None = Field(alias="from")
    to: datetime | None
    limit: int
    count: int
    runs: list[JobRun]
    next_cursor: str | None = Field(
        description="Cursor of the next page (the `cursor` parameter); null on the last page."
    )


class LatestJobRuns(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples({"runs": [example(JobRun)]}))
    runs: list[JobRun] = Field(description="The newest run of each job that has run, by job.")
