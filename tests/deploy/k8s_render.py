"""Rendering the Kubernetes manifests offline (kustomize overlays, the Helm chart) with the pinned
tools, and finding in the result its objects and the workloads' pod templates."""

from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import yaml

from tickwire_core.localstack._process import REPO_ROOT, versions
from tickwire_testing.installs import installed

Obj = dict[str, Any]

DEPLOY = REPO_ROOT / "deploy" / "k8s"
CHART = DEPLOY / "helm" / "tickwire"
PRODUCTION_VALUES = DEPLOY / "helm" / "examples" / "production.yaml"
FIVE_VENUES_VALUES = DEPLOY / "helm" / "examples" / "five-venues.yaml"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = versions()["KUBERNETES_VERSION"]

SERVICES = ("ingest", "normalize", "signals", "sink", "api")
SCALABLE = ("normalize", "signals", "sink", "api")

COMPONENT = "app.kubernetes.io/component"
FEED = "tickwire.io/feed"
FEED_INSTANCE = "tickwire.io/feed-instance"
ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"


@functools.cache
def tools_bin() -> Path:
    """helm and kustomize at their pinned versions, installed (or found) by the project's script."""
    return installed("install-deploy-tools.sh", timeout=1800)


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


def read_values(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


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


def containers(objects: tuple[Obj, ...]) -> list[tuple[Pod, Obj]]:
    """Every container of every workload, with its pod template."""
    return [(pod, c) for pod in pods(objects) for c in pod.containers()]


def ingest_pods(objects: tuple[Obj, ...]) -> list[Pod]:
    return [pod for pod in pods(objects) if pod.component == "ingest"]
