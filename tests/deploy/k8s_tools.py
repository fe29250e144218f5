"""Rendering the Kubernetes manifests offline (kustomize overlays, the Helm chart) with the pinned
tools, and reading the result back: workloads, their environment as the kubelet would build it,
their settings, and what the network policies let through."""

from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import kubernetes_validate  # type: ignore[import-untyped]
import yaml
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tickwire_api.settings import ApiSettings
from tickwire_core.localstack._process import REPO_ROOT, versions
from tickwire_core.settings import KafkaServiceSettings, env_name
from tickwire_ingest.history_settings import HistorySettings
from tickwire_ingest.settings import IngestSettings
from tickwire_normalize.settings import NormalizeSettings
from tickwire_signals.settings import SignalsSettings
from tickwire_sink.settings import SinkSettings

Obj = dict[str, Any]

DEPLOY = REPO_ROOT / "deploy" / "k8s"
CHART = DEPLOY / "helm" / "tickwire"
PRODUCTION_VALUES = DEPLOY / "helm" / "examples" / "production.yaml"
FIVE_VENUES_VALUES = DEPLOY / "helm" / "examples" / "five-venues.yaml"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = versions()["KUBERNETES_VERSION"]

SERVICES = ("ingest", "normalize", "signals", "sink", "api")
SCALABLE = ("normalize", "signals", "sink", "api")


class CommandSettings(BaseSettings):
    """What the `tickwire` command reads from the environment besides its commands' own settings
    (tickwire_cli.context.Env): the nightly jobs' containers set these."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = Field(validation_alias="DATABASE_URL")
    kafka_bootstrap_servers: str | None = Field(None, validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    kafka_client_config: str | None = Field(None, validation_alias="KAFKA_CLIENT_CONFIG")
    topic_prefix: str = Field("", validation_alias="TICKWIRE_TOPIC_PREFIX")
    log_level: str = Field("INFO", validation_alias="TICKWIRE_LOG_LEVEL")


class TopicsJobSettings(KafkaServiceSettings):
    """`tickwire topics`: the Kafka connection, and the database its run is logged in."""

    database_url: str | None = Field(None, validation_alias="DATABASE_URL")


class BackfillJobSettings(HistorySettings, CommandSettings):
    """`tickwire backfill`: the command's connections and the history sources' settings."""

    model_config = HistorySettings.model_config  # TICKWIRE_HISTORY_<FIELD>


class LakeExportJobSettings(CommandSettings):
    """`tickwire lake export`: where the lake is (LAKE_URL, given to --to by the job's shell) and
    the standard AWS variables the S3 client reads."""

    lake_url: str = Field(pattern=r"^(s3://[a-z0-9.-]+(/.*)?|/.+)$", validation_alias="LAKE_URL")
    aws_region: str | None = Field(None, validation_alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL")
    aws_access_key_id: str | None = Field(None, validation_alias="AWS_ACCESS_KEY_ID")
    aws_secret_access_key: str | None = Field(None, validation_alias="AWS_SECRET_ACCESS_KEY")


# What each component's containers read their settings with: the services' own models, and for
# the jobs the model of what their command loads (topics: the Kafka connection; migrate: the sink;
# the nightly jobs: the command's connections and their command's own).
MODELS: dict[str, type[BaseSettings]] = {
    "ingest": IngestSettings,
    "normalize": NormalizeSettings,
    "signals": SignalsSettings,
    "sink": SinkSettings,
    "api": ApiSettings,
    "topics": TopicsJobSettings,
    "migrate": SinkSettings,
    "backfill": BackfillJobSettings,
    "quality": CommandSettings,
    "lake-export": LakeExportJobSettings,
}
# The nightly jobs' components, and the image (service) holding each one's command.
SCHEDULED = {"backfill": "ingest", "quality": "jobs", "lake-export": "jobs"}
COMPONENT = "app.kubernetes.io/component"
FEED = "tickwire.io/feed"
FEED_INSTANCE = "tickwire.io/feed-instance"
ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"

# What the Secrets the manifests reference would hold, (secret, key) -> value: stand-ins that pass
# the services' validation.
DATABASE_URL = "postgresql://tickwire:secret@db.example.internal:5432/tickwire"
STAND_INS = {
    ("tickwire-database", "sink-url"): DATABASE_URL,
    ("tickwire-database", "api-url"): DATABASE_URL.replace("tickwire:", "tickwire_api:"),
    ("tickwire-api-keys", "hashes"): "ab" * 32,
    ("tickwire-kafka", "client-config"): '{"security.protocol": "SASL_SSL"}',
    ("tickwire-kafka", "sasl-password"): "kafka-password",
    ("tickwire-ig", "password"): "CST-abc|XST-def",
    ("tickwire-lake", "access-key-id"): "AKIAEXAMPLE",
    ("tickwire-lake", "secret-access-key"): "lake-secret",
}


@functools.cache
def tools_bin() -> Path:
    """helm and kustomize at their pinned versions, installed (or found) by the project's script."""
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "install-deploy-tools.sh")],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, f"install-deploy-tools.sh failed:\n{done.stderr}"
    return Path(done.stdout.strip().splitlines()[-1])


def run_tool(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tools_bin() / tool), *args], capture_output=True, text=True, timeout=120, check=False
    )


def parse(text: str) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


@functools.cache
def kustomize_build(overlay: str) -> tuple[Obj, ...]:
    done = run_tool("kustomize", "build", str(DEPLOY / "overlays" / overlay))
    assert done.returncode == 0, done.stderr
    return tuple(parse(done.stdout))


def helm_template(*args: str) -> subprocess.CompletedProcess[str]:
    """`helm template tickwire <chart> --kube-version <pinned> <args>`"""
    return run_tool(
        "helm", "template", "tickwire", str(CHART), "--kube-version", KUBERNETES_VERSION, *args
    )


@functools.cache
def helm_render(*args: str) -> tuple[Obj, ...]:
    done = helm_template(*args)
    assert done.returncode == 0, done.stderr
    return tuple(parse(done.stdout))


def schema_problems(objects: tuple[Obj, ...]) -> list[str]:
    """Every way the objects fail the pinned Kubernetes version's schemas, strictly (an unknown
    field is a problem); a kind without a schema is a problem too, not a warning."""
    problems = []
    for obj in objects:
        name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            problems.append(f"{name}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{name}: {exc.message}")
    return problems


# --- workloads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    """The pod template of a Deployment, StatefulSet, Job or CronJob."""

    kind: str
    name: str
    owner: Obj
    template: Obj

    @property
    def spec(self) -> Obj:
        spec: Obj = self.template["spec"]
        return spec

    @property
    def labels(self) -> dict[str, str]:
        labels: dict[str, str] = self.template["metadata"]["labels"]
        return labels

    @property
    def component(self) -> str:
        return self.labels[COMPONENT]

    @property
    def long_running(self) -> bool:
        return self.kind in ("Deployment", "StatefulSet")

    def containers(self) -> list[Obj]:
        containers: list[Obj] = self.spec["containers"]
        return containers


def pods(objects: tuple[Obj, ...]) -> list[Pod]:
    found = []
    for obj in objects:
        kind = obj["kind"]
        if kind in ("Deployment", "StatefulSet", "Job"):
            template = obj["spec"]["template"]
        elif kind == "CronJob":
            template = obj["spec"]["jobTemplate"]["spec"]["template"]
        else:
            continue
        found.append(Pod(kind, obj["metadata"]["name"], obj, template))
    return found


def of_kind(objects: tuple[Obj, ...], kind: str) -> list[Obj]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: tuple[Obj, ...], kind: str, name: str) -> Obj:
    matches = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} rendered"
    return matches[0]


# --- the nightly jobs' command lines -----------------------------------------------------------

YESTERDAY = '"$(date -u -d yesterday +%F)"'  # the day of a nightly job, by the container's shell


def schedule_words(
    script: str, day: str = "2024-05-01", lake: str = "s3://lake/prefix"
) -> list[str]:
    """The words of a nightly job's `sh -c` script, `exec tickwire ...`, with the shell's day and
    the lake's URL as the shell would give them."""
    assert script.startswith("exec tickwire "), script
    script = script.replace(YESTERDAY, day).replace('"$LAKE_URL"', lake)
    assert "$" not in script, script
    return shlex.split(script)[1:]


# --- environment --------------------------------------------------------------------------------

_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


@dataclass(frozen=True)
class Env:
    """A container's environment as the kubelet builds it, with stand-ins for secret values."""

    values: dict[str, str]
    # Variables only spliced into another's value by $(NAME): inputs, not settings.
    spliced: frozenset[str]

    def settings_names(self) -> set[str]:
        return set(self.values) - self.spliced


def container_env(
    container: Obj,
    objects: tuple[Obj, ...],
    secrets: Mapping[tuple[str, str], str],
    pod_name: str = "tickwire-pod-0",
) -> Env:
    """envFrom ConfigMaps first, then env in order, $(NAME) expanded from what came before (the
    kubelet's rules). Secret values come from `secrets` ((secret, key) -> value); a reference to
    one missing there fails, unless it is optional (then the variable is unset)."""
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        ref = source["configMapRef"]
        config_map = named(objects, "ConfigMap", ref["name"])
        values.update({k: str(v) for k, v in (config_map.get("data") or {}).items()})
    spliced: set[str] = set()
    for var in container.get("env", []):
        name = var["name"]
        if "value" in var:
            text = str(var["value"])
            used = set(_REFERENCE.findall(text))
            assert used <= set(values), f"{name} refers to undefined {used - set(values)}"
            spliced |= used
            values[name] = _REFERENCE.sub(lambda m: values[m.group(1)], text)
            continue
        source = var["valueFrom"]
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            key = (ref["name"], ref["key"])
            if key in secrets:
                values[name] = secrets[key]
            else:
                assert ref.get("optional"), f"{name}: no stand-in for secret {key}"
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            values[name] = str(named(objects, "ConfigMap", ref["name"])["data"][ref["key"]])
        elif source.get("fieldRef", {}).get("fieldPath") == "metadata.name":
            values[name] = pod_name
        else:
            raise AssertionError(f"{name}: unexpected source {source}")
    return Env(values, frozenset(spliced))


def setting_names(model: type[BaseSettings]) -> set[str]:
    return {env_name(model, field) for field in model.model_fields}


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    # The settings read os.environ; nothing of the test process's own may leak in.
    with mock.patch.dict(os.environ, env, clear=True):
        yield


def load(model: type[BaseSettings], env: Env) -> Any:
    """The settings the service would start with (raises the service's own validation error)."""
    with _environment(env.values):
        return model()


# --- network policies ---------------------------------------------------------------------------


def selects(selector: Obj, labels: Mapping[str, str]) -> bool:
    """A LabelSelector's verdict on `labels` (an empty selector selects everything)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


@dataclass(frozen=True)
class Rule:
    """One port a policy rule opens, and to or from whom ('any' when the rule names no peers)."""

    protocol: str
    port: int | str
    peers: str


def policies_for(objects: tuple[Obj, ...], labels: Mapping[str, str]) -> list[Obj]:
    return [
        p for p in of_kind(objects, "NetworkPolicy") if selects(p["spec"]["podSelector"], labels)
    ]


def allowed(objects: tuple[Obj, ...], labels: Mapping[str, str], direction: str) -> set[Rule]:
    """direction: 'Ingress' or 'Egress'. Rules without ports open every port ('*')."""
    rules: set[Rule] = set()
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in policies_for(objects, labels):
        if direction not in policy["spec"].get("policyTypes", []):
            continue
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peers_key)
            who = yaml.safe_dump(peers, sort_keys=True).strip() if peers else "any"
            for port in rule.get("ports") or [{"protocol": "*", "port": "*"}]:
                rules.add(Rule(port.get("protocol", "TCP"), port["port"], who))
    return rules


def kept_apart(a: Pod, b: Pod, *, required: bool = True) -> set[str]:
    """The topology keys over which the scheduler keeps pods `a` and `b` apart: the pod
    anti-affinity terms of either that select the other (a required term binds both ways), the
    preferred ones with required=False. Both are assumed in one namespace."""
    keys: set[str] = set()
    for pod, other in ((a, b), (b, a)):
        anti = pod.spec.get("affinity", {}).get("podAntiAffinity", {})
        if required:
            terms = anti.get("requiredDuringSchedulingIgnoredDuringExecution") or []
        else:
            preferred = anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []
            terms = [t["podAffinityTerm"] for t in preferred]
        for term in terms:
            if selects(term["labelSelector"], other.labels):
                keys.add(term["topologyKey"])
    return keys


def isolated(objects: tuple[Obj, ...], labels: Mapping[str, str]) -> bool:
    """A policy selects the pod for both directions: whatever no rule allows is denied."""
    types: set[str] = set()
    for policy in policies_for(objects, labels):
        types |= set(policy["spec"].get("policyTypes", []))
    return {"Ingress", "Egress"} <= types


def secret_references(objects: tuple[Obj, ...]) -> set[tuple[str, str | None]]:
    """(secret, key) of every secretKeyRef, and (secret, None) of every secret volume."""
    refs: set[tuple[str, str | None]] = set()
    for pod in pods(objects):
        for container in pod.containers():
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs.add((ref["name"], ref["key"]))
        for volume in pod.spec.get("volumes", []):
            if "secret" in volume:
                refs.add((volume["secret"]["secretName"], None))
    return refs


def read_values(path: Path) -> Any:
    return yaml.safe_load(path.read_text())
