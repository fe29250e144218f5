"""The Airflow example (examples/airflow/), checked by Airflow itself in an environment of its own
(scripts/install-airflow.sh): the DAG loads, runs daily with catchup, and each task renders to
its `tickwire` command line, in a pod of the image and on a worker with tickwire installed."""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tickwire_core.localstack._process import REPO_ROOT
from tickwire_testing.installs import installed

EXAMPLE = REPO_ROOT / "examples" / "airflow"
READER = Path(__file__).with_name("read_airflow_dag.py")
DAG_ID = "tickwire_daily"
RUNNERS = ("kubernetes", "bash")
# The run that starts at 02:00 UTC on 2026-03-15 is the one for the day before.
LOGICAL_DATE = "2026-03-14T02:00:00+00:00"
DAY = "2026-03-14"
# A path the shell would split: the bash runner must quote it.
LAKE_URL = "/mnt/market data/lake"
COMMANDS = {
    "backfill": ["tickwire", "backfill", "--config", "/etc/tickwire/nightly.toml"],
    "quality": ["tickwire", "quality", "--day", DAY],
    "lake_export": ["tickwire", "lake", "export", "--day", DAY, "--to", LAKE_URL],
}
BASH_LINES = {
    "backfill": "tickwire backfill --config /etc/tickwire/nightly.toml",
    "quality": f"tickwire quality --day {DAY}",
    "lake_export": f"tickwire lake export --day {DAY} --to '{LAKE_URL}'",
}

# Reading the DAG takes Airflow's import and a migrated SQLite database: about a minute on two
# busy cores, on top of a cold install.
pytestmark = pytest.mark.timeout(900)


def airflow_env() -> Path:
    """The Airflow environment, installed (or found) by the project's script."""
    return installed("install-airflow.sh", timeout=900)


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What Airflow reads from the example, per runner (see read_airflow_dag.py)."""
    python = airflow_env() / "bin" / "python"
    home = tmp_path_factory.mktemp("airflow-home")
    output = home / "facts.json"
    # Nothing of the workspace's environment (its virtualenv, tickwire's settings) reaches Airflow,
    # and nothing Airflow writes leaves the temporary home.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW_VAR_TICKWIRE_LAKE_URL": LAKE_URL,
    }
    done = subprocess.run(
        [str(python), str(READER), str(EXAMPLE), DAG_ID, LOGICAL_DATE, str(output), *RUNNERS],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, (
        f"reading the DAG failed:\n{done.stdout[-4000:]}{done.stderr[-4000:]}"
    )
    read: dict[str, Any] = json.loads(output.read_text())
    return read


def test_the_airflow_environment_is_not_the_workspace() -> None:
    python = airflow_env() / "bin" / "python"
    found = subprocess.run(
        [str(python), "-c", "import tickwire_core"], capture_output=True, check=False
    )
    assert found.returncode != 0, "the workspace's packages reach the Airflow environment"
    assert importlib.util.find_spec("airflow") is None, "Airflow reached the workspace"


@pytest.mark.parametrize("runner", RUNNERS)
def test_the_dag_loads_without_import_errors(facts: dict[str, Any], runner: str) -> None:
    assert facts[runner]["import_errors"] == {}
    assert facts[runner]["dag_ids"] == [DAG_ID]


@pytest.mark.parametrize("runner", RUNNERS)
def test_backfill_then_quality_then_lake_export(facts: dict[str, Any], runner: str) -> None:
    upstream = {task: info["upstream"] for task, info in facts[runner]["tasks"].items()}
    assert upstream == {"backfill": [], "quality": ["backfill"], "lake_export": ["quality"]}


@pytest.mark.parametrize("runner", RUNNERS)
def test_every_task_retries_after_a_delay(facts: dict[str, Any], runner: str) -> None:
    for task, info in facts[runner]["tasks"].items():
        assert info["retries"] == 3, task
        assert info["retry_delay_s"] == 600, task
        assert info["execution_timeout_s"], task


def test_one_run_a_day_for_the_day_that_closed_from_the_start_date(
    facts: dict[str, Any],
) -> None:
    dag = facts["kubernetes"]
    assert dag["schedule"] == "CronDataIntervalTimetable(expression='0 2 * * *', timezone='UTC')"
    assert dag["catchup"] is True
    assert dag["max_active_runs"] == 1
    assert dag["start_date"] == "2026-01-01T00:00:00+00:00"
    # Catchup: the scheduler starts at the start date's day, not today; each run's `ds` is the
    # day before it starts.
    assert dag["runs"] == [
        {
            "logical_date": f"2026-01-0{day}T02:00:00+00:00",
            "data_interval_start": f"2026-01-0{day}T02:00:00+00:00",
            "data_interval_end": f"2026-01-0{day + 1}T02:00:00+00:00",
            "run_after": f"2026-01-0{day + 1}T02:00:00+00:00",
        }
        for day in (1, 2, 3)
    ]


@pytest.mark.parametrize("task", COMMANDS)
def test_each_pod_runs_one_tickwire_command_in_the_image(facts: dict[str, Any], task: str) -> None:
    rendered = facts["kubernetes"]["commands"][task]
    assert rendered["operator"] == "KubernetesPodOperator"
    image = "tickwire-ingest" if task == "backfill" else "tickwire-jobs"
    assert rendered["image"] == f"ghcr.io/tickwire/{image}:0.1.0"
    assert rendered["cmds"] + rendered["arguments"] == COMMANDS[task]


@pytest.mark.parametrize("task", COMMANDS)
def test_each_bash_task_runs_one_tickwire_command_line(facts: dict[str, Any], task: str) -> None:
    rendered = facts["bash"]["commands"][task]
    assert rendered["operator"] == "BashOperator"
    assert rendered["bash_command"] == BASH_LINES[task]
    assert shlex.split(rendered["bash_command"]) == COMMANDS[task]
