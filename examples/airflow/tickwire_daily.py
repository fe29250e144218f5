"""tickwire's daily jobs as one Airflow DAG: the nightly backfill, then the quality report of the
UTC day that closed, then that day's lake export, each task one `tickwire` command."""

from __future__ import annotations

import os
import shlex
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, BaseOperator, CronDataIntervalTimetable, chain
from kubernetes.client import models as k8s

# Where each task runs: "kubernetes" (a pod of the tickwire image, next to the Helm release) or
# "bash" (a worker that has the `tickwire` command on its PATH). Read when the DAG is parsed.
RUNNER = os.environ.get("TICKWIRE_AIRFLOW_RUNNER", "kubernetes")
NAMESPACE = os.environ.get("TICKWIRE_NAMESPACE", "tickwire")


def image(name: str) -> str:
    """`ghcr.io/tickwire/tickwire-<name>:0.1.0`, or the Variable `tickwire_<name>_image`."""
    default = f"ghcr.io/tickwire/tickwire-{name}:0.1.0"
    return f"{{{{ var.value.get('tickwire_{name}_image', '{default}') }}}}"


# The images that hold the `tickwire` command and what each job needs: the backfill the ingest
# image (the vendors' clients), the quality report and the lake export the jobs image; the
# Variables `tickwire_ingest_image` and `tickwire_jobs_image` name others.
IMAGES = {"backfill": image("ingest"), "quality": image("jobs"), "lake_export": image("jobs")}
NIGHTLY_CONFIG = "/etc/tickwire/nightly.toml"
LAKE_URL = "{{ var.value.tickwire_lake_url }}"

# The words after `tickwire` of each task's command line, as templates: `ds` is the run's UTC day.
# A missing `tickwire_lake_url` Variable (or AIRFLOW_VAR_TICKWIRE_LAKE_URL) fails the export task.
COMMANDS = {
    "backfill": ["backfill", "--config", NIGHTLY_CONFIG],
    "quality": ["quality", "--day", "{{ ds }}"],
    "lake_export": ["lake", "export", "--day", "{{ ds }}", "--to", LAKE_URL],
}
# The backfill catches up on everything new since its watermark, the others do one day.
TIMEOUTS = {
    "backfill": timedelta(hours=4),
    "quality": timedelta(hours=1),
    "lake_export": timedelta(hours=2),
}


def shell_word(word: str) -> str:
    """One word of a bash command line: a literal quoted now, a template's value when rendered
    (a lake URL is the operator's text, so it may hold anything the shell would read)."""
    if word.startswith("{{") and word.endswith("}}"):
        return word[:-2].rstrip() + " | shell_quote }}"
    return shlex.quote(word)


def pod_settings(task_id: str) -> dict[str, Any]:
    """What a task's pod is given: the connections in the Secrets and ConfigMap the Helm release
    uses, the nightly config file (backfill), and a container as locked down as the chart's."""
    volumes = [k8s.V1Volume(name="tmp", empty_dir=k8s.V1EmptyDirVolumeSource(size_limit="256Mi"))]
    mounts = [k8s.V1VolumeMount(name="tmp", mount_path="/tmp")]
    if task_id == "backfill":
        volumes.append(
            k8s.V1Volume(
                name="nightly", config_map=k8s.V1ConfigMapVolumeSource(name="tickwire-nightly")
            )
        )
        mounts.append(
            k8s.V1VolumeMount(
                name="nightly", mount_path=NIGHTLY_CONFIG, sub_path="nightly.toml", read_only=True
            )
        )
    return {
        "namespace": NAMESPACE,
        "image": IMAGES[task_id],
        "cmds": ["tickwire"],
        "env_vars": [
            secret_env("DATABASE_URL", "tickwire-database", "sink-url"),
            secret_env("KAFKA_CLIENT_CONFIG", "tickwire-kafka", "client-config", optional=True),
        ],
        "env_from": [
            k8s.V1EnvFromSource(
                config_map_ref=k8s.V1ConfigMapEnvSource(name="tickwire-kafka-connection")
            ),
            # AWS_* for an s3:// lake (any S3-compatible store: AWS_ENDPOINT_URL).
            k8s.V1EnvFromSource(
                secret_ref=k8s.V1SecretEnvSource(name="tickwire-lake", optional=True)
            ),
        ],
        "volumes": volumes,
        "volume_mounts": mounts,
        "security_context": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001},
        "container_security_context": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "container_resources": k8s.V1ResourceRequirements(
            requests={"cpu": "100m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "1Gi"}
        ),
        # A failed pod stays for `kubectl logs`; Airflow keeps the log of a good one.
        "on_finish_action": "delete_succeeded_pod",
    }


def secret_env(name: str, secret: str, key: str, *, optional: bool = False) -> k8s.V1EnvVar:
    ref = k8s.V1SecretKeySelector(name=secret, key=key, optional=optional)
    return k8s.V1EnvVar(name=name, value_from=k8s.V1EnvVarSource(secret_key_ref=ref))


def tickwire_task(task_id: str) -> BaseOperator:
    words = COMMANDS[task_id]
    timeout = TIMEOUTS[task_id]
    if RUNNER == "bash":
        command = " ".join(["tickwire", *(shell_word(w) for w in words)])
        return BashOperator(task_id=task_id, bash_command=command, execution_timeout=timeout)
    if RUNNER != "kubernetes":
        raise ValueError(f"TICKWIRE_AIRFLOW_RUNNER={RUNNER!r}: use 'kubernetes' or 'bash'")
    return KubernetesPodOperator(
        task_id=task_id,
        name=f"tickwire-{task_id.replace('_', '-')}",
        arguments=list(words),
        execution_timeout=timeout,
        **pod_settings(task_id),
    )


with DAG(
    dag_id="tickwire_daily",
    description="nightly backfill, then the day's quality report, then its lake export",
    # Each run covers one UTC day D (its `ds`) and starts at 02:00 on D+1: late ticks have two
    # hours to land before the day is reported and exported.
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    # The first day to report and export: catchup runs every day from here, one run at a time.
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=True,
    max_active_runs=1,
    default_args={
        "owner": "tickwire",
        "retries": 3,
        "retry_delay": timedelta(minutes=10),
    },
    user_defined_filters={"shell_quote": shlex.quote},
    tags=["tickwire"],
) as dag:
    chain(tickwire_task("backfill"), tickwire_task("quality"), tickwire_task("lake_export"))
