"""Run by the Airflow environment's python (never the workspace's): loads a DAG folder with
Airflow's own DagBag and writes, as JSON, what the example DAG test checks.

    read_airflow_dag.py DAG_FOLDER DAG_ID LOGICAL_DATE OUTPUT RUNNER...

AIRFLOW_HOME must be an empty folder of the caller's (its SQLite database is made here) and
AIRFLOW__CORE__DAGS_FOLDER the DAG folder. Each task is rendered as `airflow tasks render` does,
for a run at LOGICAL_DATE, once per runner (TICKWIRE_AIRFLOW_RUNNER); the JSON goes to OUTPUT,
since Airflow logs to stdout.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.cli.cli_parser import get_parser
from airflow.cli.commands.task_command import task_render
from airflow.dag_processing.bundles.manager import DagBundlesManager
from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
from airflow.serialization.serialized_objects import DagSerialization
from airflow.utils.db import initdb

# The template fields that make up a task's command line, per operator.
COMMAND_FIELDS = ("image", "cmds", "arguments", "bash_command")
# Airflow's default bundle: the folder AIRFLOW__CORE__DAGS_FOLDER names.
BUNDLE = "dags-folder"


def scheduled_runs(dag: Any, count: int) -> list[dict[str, str]]:
    """The first runs the scheduler makes from the start date (catchup included), as it would:
    through the serialized DAG's timetable and time restriction."""
    scheduler_dag = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    runs, info = [], None
    for _ in range(count):
        info = scheduler_dag.next_dagrun_info(last_automated_run_info=info)
        if info is None:
            break
        runs.append(
            {
                "logical_date": info.logical_date.isoformat(),
                "data_interval_start": info.data_interval.start.isoformat(),
                "data_interval_end": info.data_interval.end.isoformat(),
                "run_after": info.run_after.isoformat(),
            }
        )
    return runs


def rendered_commands(dag: Any, logical_date: str) -> dict[str, dict[str, Any]]:
    """Each task's command fields after `airflow tasks render` for a run at logical_date."""
    commands = {}
    for task_id in dag.task_ids:
        args = get_parser().parse_args(["tasks", "render", dag.dag_id, task_id, logical_date])
        # task_render prints every field; the rendered values stay on the task itself.
        task_render(args, dag=dag)
        task = dag.get_task(task_id)
        commands[task_id] = {
            "operator": type(task).__name__,
            **{f: getattr(task, f) for f in COMMAND_FIELDS if f in task.template_fields},
        }
    return commands


def describe(folder: str, dag_id: str, logical_date: str, runner: str) -> dict[str, Any]:
    os.environ["TICKWIRE_AIRFLOW_RUNNER"] = runner
    bag = DagBag(folder, bundle_path=Path(folder), bundle_name=BUNDLE)
    # Stored as the DAG processor stores it: rendering reads the serialized DAG's version.
    sync_bag_to_db(bag, BUNDLE, None)
    if dag_id not in bag.dags:
        return {"import_errors": bag.import_errors, "dag_ids": bag.dag_ids}
    dag = bag.dags[dag_id]
    return {
        "import_errors": bag.import_errors,
        "dag_ids": bag.dag_ids,
        "schedule": repr(dag.timetable),
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "start_date": dag.start_date.isoformat(),
        "tasks": {
            t.task_id: {
                "upstream": sorted(t.upstream_task_ids),
                "retries": t.retries,
                "retry_delay_s": _seconds(t.retry_delay),
                "execution_timeout_s": _seconds(t.execution_timeout),
            }
            for t in dag.tasks
        },
        "runs": scheduled_runs(dag, 3),
        "commands": rendered_commands(dag, logical_date),
    }


def _seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds()


def main() -> None:
    folder, dag_id, logical_date, output, *runners = sys.argv[1:]
    datetime.fromisoformat(logical_date)  # fail here, not inside Airflow, on a bad date
    # Rendering looks the run up in the metadata database first: an empty SQLite one will do.
    initdb()
    DagBundlesManager().sync_bundles_to_db()
    facts = {runner: describe(folder, dag_id, logical_date, runner) for runner in runners}
    Path(output).write_text(json.dumps(facts, indent=2, default=str))


if __name__ == "__main__":
    main()
