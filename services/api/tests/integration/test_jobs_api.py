"""/v1/jobs and /v1/jobs/latest on a real TimescaleDB: runs logged by the batch commands' own
recorder and by hand, pages walked to the end in JSON, CSV and Parquet give exactly the stored
runs newest first, filters, refusals naming the parameter, the key, and each job's last run."""

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from tickwire_api.app import create_app
from tickwire_api.settings import ApiSettings
from tickwire_cli.job_runs import job_run
from tickwire_sink.adapters.migrations import migrate

pytestmark = pytest.mark.integration

KEY = "tw_jobs_8d02be6f"
T0 = datetime(2024, 5, 1, 2, 30, tzinfo=UTC)
STATUSES = ["succeeded", "failed", "interrupted", "succeeded"]


def logged(job: str, n: int) -> tuple[Any, ...]:
    """The n-th made-up run of `job`: one a day from T0, lasting n + 1 minutes."""
    started = T0 + timedelta(days=n, minutes=len(job))
    status = STATUSES[n % len(STATUSES)]
    return (
        job,
        json.dumps({"day": f"2024-05-{n + 1:02d}"}),
        f"host-{n}",
        started,
        started + timedelta(minutes=n + 1),
        status,
        1000 * n if status == "succeeded" else None,
        None if status == "succeeded" else f"{status} on day {n}",
    )


RUNS = [logged(job, n) for job in ("lake-export", "quality") for n in range(7)]


@pytest.fixture
def database(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        conn.cursor().executemany(
            "INSERT INTO job_runs (job, arguments, host, started_at, finished_at, status, rows,"
            " error) VALUES (%s, %s::jsonb, %s, %s, %s, %s, %s, %s)",
            RUNS,
        )
    return database_url


@pytest.fixture
def client(database: str) -> Iterator[TestClient]:
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    settings = ApiSettings(DATABASE_URL=database, api_key_hashes=digest, max_limit=20)
    with TestClient(create_app(settings), headers={"X-API-Key": KEY}) as test_client:
        yield test_client


def stored(database: str, where: str = "TRUE", *params: Any) -> list[dict[str, Any]]:
    """The runs as the table holds them, newest first, in the served columns' types."""
    with psycopg.connect(database) as conn:
        rows = conn.execute(
            "SELECT id, job, status, started_at, finished_at, rows, error, host, arguments"
            f" FROM job_runs WHERE {where} ORDER BY started_at DESC, id DESC",
            params,
        ).fetchall()
    names = ["id", "job", "status", "started_at", "finished_at", "rows", "error", "host"]
    return [{**dict(zip(names, r[:-1], strict=True)), "arguments": r[-1]} for r in rows]


def walk(client: TestClient, fmt: str, **params: Any) -> list[dict[str, Any]]:
    """Every run the query pages through, three a page, as the format gives them back."""
    runs: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 3, "format": fmt, **({"cursor": cursor} if cursor else {})}
        response = client.get("/v1/jobs", params=query)
        assert response.status_code == 200, response.text
        if fmt == "json":
            body = response.json()
            assert body["count"] == len(body["runs"]) <= 3
            page, cursor = body["runs"], body["next_cursor"]
        elif fmt == "csv":
            page = list(csv.DictReader(io.StringIO(response.text)))
            cursor = response.headers.get("X-Next-Cursor")
        else:
            page = pq.read_table(io.BytesIO(response.content)).to_pylist()
            cursor = response.headers.get("X-Next-Cursor")
        runs += [typed(run) for run in page]
        if not cursor:
            return runs


def typed(run: dict[str, Any]) -> dict[str, Any]:
    """A served run back in the stored types, without its derived duration."""
    out = {}
    for name in ("id", "job", "status", "started_at", "finished_at", "rows", "error", "host"):
        value = run[name]
        if value in (None, ""):
            out[name] = None
        elif name in ("id", "rows"):
            out[name] = int(value)
        elif name.endswith("_at"):
            out[name] = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        else:
            out[name] = value
    args = run["arguments"]
    out["arguments"] = args if isinstance(args, dict) else json.loads(args)
    return out


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_pages_give_every_run_newest_first(client, database, fmt) -> None:
    assert walk(client, fmt) == stored(database)


def test_filters_by_job_status_and_start(client, database) -> None:
    start, end = T0 + timedelta(days=2), T0 + timedelta(days=5)
    walked = walk(
        client, "json", job="quality", status="succeeded", **{"from": start.isoformat()},
        to=end.isoformat(),
    )  # fmt: skip
    expected = stored(
        database,
        "job = %s AND status = %s AND started_at >= %s AND started_at < %s",
        "quality", "succeeded", start, end,
    )  # fmt: skip
    assert walked == expected and [r["started_at"].day for r in walked] == [5, 4]


def test_durations_are_from_the_log_and_grow_while_running(client, database) -> None:
    with psycopg.connect(database) as conn:
        conn.execute(
            "INSERT INTO job_runs (job, started_at) VALUES ('backfill', now() - interval '90 s')"
        )
    runs = client.get("/v1/jobs", params={"limit": 20}).json()["runs"]
    running = [r for r in runs if r["status"] == "running"]
    assert len(running) == 1 and running[0]["finished_at"] is None
    assert 90 <= running[0]["duration_s"] < 150
    done = {r["host"]: r["duration_s"] for r in runs if r["job"] == "quality"}
    assert done == {f"host-{n}": 60.0 * (n + 1) for n in range(7)}


def test_a_run_the_recorder_logs_is_served(client, database) -> None:
    with job_run(database, "backfill", {"source": "yahoo", "since": T0.date()}) as run:
        run.rows = 42
    body = client.get("/v1/jobs", params={"job": "backfill"}).json()
    [served] = body["runs"]
    assert (served["status"], served["rows"], served["arguments"]) == (
        "succeeded", 42, {"source": "yahoo", "since": "2024-05-01"},
    )  # fmt: skip


def test_latest_is_the_newest_run_of_each_job(client, database) -> None:
    latest = client.get("/v1/jobs/latest").json()["runs"]
    assert [(r["job"], r["host"]) for r in latest] == [
        ("lake-export", "host-6"),
        ("quality", "host-6"),
    ]
    assert latest == [
        next(r for r in client.get("/v1/jobs", params={"job": job}).json()["runs"])
        for job in ("lake-export", "quality")
    ]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"status": "done"}, "status"),
        ({"job": "Bad Job"}, "job"),
        ({"from": "2024-05-03T00:00:00Z", "to": "2024-05-02T00:00:00Z"}, "to"),
        ({"from": "yesterday"}, "from"),
        ({"limit": 21}, "limit"),
    ],
)
def test_refusals_name_the_parameter(client, params, parameter) -> None:
    response = client.get("/v1/jobs", params=params)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["query", parameter]]


def test_a_cursor_of_another_query_is_refused(client) -> None:
    cursor = client.get("/v1/jobs", params={"limit": 2}).json()["next_cursor"]
    response = client.get("/v1/jobs", params={"limit": 2, "job": "quality", "cursor": cursor})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_without_the_key_nothing_is_served(database) -> None:
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    settings = ApiSettings(DATABASE_URL=database, api_key_hashes=digest)
    with TestClient(create_app(settings)) as anonymous:
        assert anonymous.get("/v1/jobs").status_code == 401
        assert anonymous.get("/v1/jobs/latest").status_code == 401
