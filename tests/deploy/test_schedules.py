"""The nightly jobs as deployed (kustomize, the chart, compose): each CronJob's policy (no overlap,
deadlines, retries), its command run by a real shell for yesterday's UTC day, the backfill's
configured sources parsed as the command parses them, and the chart's values reaching them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests.deploy.k8s_env import SCHEDULED, STAND_INS, container_env, schedule_words
from tests.deploy.k8s_render import (
    PRODUCTION_VALUES,
    Obj,
    helm_render,
    helm_template,
    kustomize_build,
    named,
    of_kind,
    parse,
    pods,
)
from tickwire_core.localstack._process import REPO_ROOT
from tickwire_ingest.domain.history.config import parse_jobs

RENDERINGS: dict[str, Callable[[], tuple[Obj, ...]]] = {
    "kustomize-dev": lambda: kustomize_build("dev"),
    "kustomize-prod": lambda: kustomize_build("prod"),
    "helm-production": lambda: helm_render("-f", str(PRODUCTION_VALUES)),
}
COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
# A `tickwire` that prints the words it was given, for running the jobs' scripts in a real shell.
FAKE_TICKWIRE = (
    "#!/bin/sh\nexec python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' \"$@\"\n"
)


@pytest.fixture(params=sorted(RENDERINGS), scope="module")
def objects(request: pytest.FixtureRequest) -> tuple[Obj, ...]:
    return RENDERINGS[request.param]()


def cron_jobs(objects: tuple[Obj, ...]) -> dict[str, Obj]:
    """The nightly jobs' CronJobs by component (the daily topic check is not one of them)."""
    found = {}
    for cron in of_kind(objects, "CronJob"):
        template = cron["spec"]["jobTemplate"]["spec"]["template"]
        component = template["metadata"]["labels"]["app.kubernetes.io/component"]
        if component in SCHEDULED:
            found[component] = cron
    return found


def test_every_nightly_job_is_scheduled_once_without_overlap_with_deadlines(objects) -> None:
    crons = cron_jobs(objects)
    assert sorted(crons) == sorted(SCHEDULED)
    for component, cron in crons.items():
        spec = cron["spec"]
        assert spec["concurrencyPolicy"] == "Forbid", component
        assert spec["timeZone"] == "Etc/UTC", component
        # A start missed by more than an hour is skipped: "yesterday" stays the day meant.
        assert 0 < spec["startingDeadlineSeconds"] <= 3600, component
        job = spec["jobTemplate"]["spec"]
        assert 0 < job["activeDeadlineSeconds"] <= 4 * 3600, component
        assert 1 <= job["backoffLimit"] <= 3, component
        assert job["template"]["spec"]["restartPolicy"] == "Never", component
    # The export runs after the report of the same day, so the lake holds the report too.
    hour = {
        c: tuple(map(int, cron["spec"]["schedule"].split()[1::-1])) for c, cron in crons.items()
    }
    assert hour["backfill"] < hour["quality"] < hour["lake-export"]


def run_script(script: str, env: dict[str, str], tmp_path: Path) -> list[str]:
    """The words `tickwire` gets when a real shell runs the job's script."""
    fake = tmp_path / "bin" / "tickwire"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(FAKE_TICKWIRE)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    path = f"{fake.parent}:{os.environ['PATH']}"
    done = subprocess.run(
        ["sh", "-c", script], env={**env, "PATH": path}, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    words: list[str] = json.loads(done.stdout)
    return words


def yesterday() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).date().isoformat()


def test_each_jobs_shell_gives_its_command_yesterdays_day(objects, tmp_path) -> None:
    for pod in pods(objects):
        if pod.component not in ("quality", "lake-export"):
            continue
        [container] = pod.containers()
        _, _, script = container["command"]
        before = yesterday()
        words = run_script(script, {"LAKE_URL": "s3://tickwire-lake/x"}, tmp_path)
        assert words[words.index("--day") + 1] in (before, yesterday())  # midnight in between
        day = words[words.index("--day") + 1]
        assert ["tickwire", *words] == schedule_words(script, day=day, lake="s3://tickwire-lake/x")


def test_the_backfills_sources_parse_as_the_command_parses_them(objects) -> None:
    [backfill] = [pod for pod in pods(objects) if pod.component == "backfill"]
    [container] = backfill.containers()
    path = Path(container["command"][container["command"].index("--config") + 1])
    [mount] = [m for m in container["volumeMounts"] if path.is_relative_to(m["mountPath"])]
    [volume] = [v for v in backfill.spec["volumes"] if v["name"] == mount["name"]]
    config = named(objects, "ConfigMap", volume["configMap"]["name"])
    jobs = parse_jobs(config["data"][path.name], path.name)
    assert {job.source for job in jobs} == {"finra-short-volume", "yahoo"}


def test_the_charts_values_reach_each_cronjob() -> None:
    objects = helm_render(
        "-f", str(PRODUCTION_VALUES),
        "--set", "schedules.quality.schedule=15 5 * * 1-5",
        "--set", "schedules.quality.arguments={--instrument,AAPL}",
        "--set", "schedules.quality.resources.limits.memory=3Gi",
        "--set", "schedules.quality.image.tag=9.9.9",
        "--set-json", 'schedules.backfill.arguments=["--wait-timeout", "60"]',
        "--set", "schedules.lakeExport.s3.endpointUrl=https://store.internal:9000",
        "--set", "schedules.lakeExport.egressPorts={9000}",
    )  # fmt: skip
    crons = cron_jobs(objects)
    quality = crons["quality"]["spec"]
    [container] = quality["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert quality["schedule"] == "15 5 * * 1-5"
    assert container["image"] == "ghcr.io/tickwire/tickwire-jobs:9.9.9"
    assert container["resources"]["limits"]["memory"] == "3Gi"
    assert schedule_words(container["command"][2]) == [
        "tickwire", "quality", "--day", "2024-05-01", "--instrument", "AAPL",
    ]  # fmt: skip
    backfill = crons["backfill"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert backfill["containers"][0]["command"][-2:] == ["--wait-timeout", "60"]
    lake = crons["lake-export"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    env = container_env(lake["containers"][0], objects, STAND_INS)
    assert env.values["AWS_ENDPOINT_URL"] == "https://store.internal:9000"
    assert env.values["LAKE_URL"] == "s3://tickwire-lake/prod"


def test_by_default_only_the_quality_report_is_scheduled() -> None:
    assert sorted(cron_jobs(helm_render())) == ["quality"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--set", "schedules.backfill.enabled=true"], "schedules.backfill.config"),
        (["--set", "schedules.lakeExport.enabled=true"], "schedules.lakeExport.to"),
        (["--set", "schedules.quality.backoffLimit=-1"], "/schedules/quality/backoffLimit"),
    ],
    ids=["backfill-without-sources", "export-without-a-lake", "negative-retries"],
)
def test_a_job_without_what_it_needs_fails_at_install(args: list[str], says: str) -> None:
    done = helm_template(*args)
    assert done.returncode != 0
    assert says in done.stderr, done.stderr
    assert not parse(done.stdout)


def test_compose_runs_the_same_jobs_on_demand_only(tmp_path) -> None:
    jobs = {name: s for name, s in COMPOSE.items() if "jobs" in (s.get("profiles") or [])}
    assert sorted(jobs) == ["backfill", "lake-export", "quality"]
    sink = COMPOSE["sink"]["environment"]
    for name, service in jobs.items():
        assert service["restart"] == "no" and service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert service["environment"]["DATABASE_URL"] == sink["DATABASE_URL"], name
        image = service["build"]["args"]["SERVICE"]
        assert image == SCHEDULED[name], name
    assert (
        jobs["backfill"]["environment"]["KAFKA_BOOTSTRAP_SERVERS"]
        == (sink["KAFKA_BOOTSTRAP_SERVERS"])
    )
    [mount] = jobs["backfill"]["volumes"]
    source, target, _ = mount.split(":")
    command = jobs["backfill"]["command"]
    assert command[command.index("--config") + 1] == target
    assert parse_jobs((REPO_ROOT / source).read_text(), source)
    for name in ("quality", "lake-export"):
        script = jobs[name]["command"][2].replace("$$", "$")  # compose's escape of a dollar
        before = yesterday()
        words = run_script(script, {"LAKE_URL": "/var/lib/tickwire/lake"}, tmp_path)
        day = words[words.index("--day") + 1]
        assert day in (before, yesterday())  # midnight in between
        assert ["tickwire", *words] == schedule_words(
            script, day=day, lake="/var/lib/tickwire/lake"
        )
