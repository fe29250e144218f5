"""Every rendering of the manifests (conftest.py) runs its pods locked down and apart: non-root,
read-only, token-less, bounded, let through only the pipeline's flows, a feed's zones apart."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.deploy.k8s_env import STAND_INS, container_env, settings_of
from tests.deploy.k8s_policies import allowed, isolated, kept_apart, secret_references
from tests.deploy.k8s_render import (
    FEED,
    SERVICES,
    ZONE,
    Obj,
    containers,
    ingest_pods,
    of_kind,
    pods,
)
from tickwire_core.localstack._process import REPO_ROOT

RUNS_AS = 10001  # the images' user


def test_a_feeds_instances_must_run_in_different_zones_and_other_feeds_are_free(
    objects: tuple[Obj, ...],
) -> None:
    """What the redundancy is for: a zone's loss leaves each feed one instance. Pods of different
    feeds may share a zone (five feeds must not need ten zones)."""
    ingest = ingest_pods(objects)
    for i, a in enumerate(ingest):
        for b in ingest[i + 1 :]:
            apart = kept_apart(a, b)
            if a.labels.get(FEED) == b.labels.get(FEED):
                assert apart == {ZONE}, (a.name, b.name)
            else:
                assert apart == set(), (a.name, b.name)


def test_every_container_runs_locked_down(objects: tuple[Obj, ...]) -> None:
    for pod, container in containers(objects):
        context = container["securityContext"]
        seccomp = context.get("seccompProfile") or pod.spec["securityContext"]["seccompProfile"]
        assert context["runAsNonRoot"] is True, pod.name
        assert context["runAsUser"] == RUNS_AS, pod.name
        assert context["readOnlyRootFilesystem"] is True, pod.name
        assert context["allowPrivilegeEscalation"] is False, pod.name
        assert context["capabilities"] == {"drop": ["ALL"]}, pod.name
        assert seccomp == {"type": "RuntimeDefault"}, pod.name
        assert "add" not in context["capabilities"], pod.name


def test_writable_paths_are_empty_dirs(objects: tuple[Obj, ...]) -> None:
    """The root filesystem is read-only: /tmp, and the signals data directory, are emptyDirs."""
    for pod, container in containers(objects):
        empty_dirs = {v["name"] for v in pod.spec["volumes"] if "emptyDir" in v}
        writable = {
            m["mountPath"]: m["name"]
            for m in container["volumeMounts"]
            if not m.get("readOnly") and m["name"] in empty_dirs
        }
        assert "/tmp" in writable, pod.name
        if pod.component == "signals":
            data_dir = settings_of(pod, container, objects).data_dir
            assert any(data_dir == p or data_dir.startswith(p + "/") for p in writable), data_dir
            assert not data_dir.startswith("/tmp"), "the data directory has a volume of its own"


def test_pods_run_under_their_own_service_account_without_a_token(
    objects: tuple[Obj, ...],
) -> None:
    accounts = {sa["metadata"]["name"]: sa for sa in of_kind(objects, "ServiceAccount")}
    for pod in pods(objects):
        account = accounts[pod.spec["serviceAccountName"]]
        assert account["automountServiceAccountToken"] is False, pod.name
        assert pod.spec["automountServiceAccountToken"] is False, pod.name
    long_running = {
        (p.component, p.spec["serviceAccountName"]) for p in pods(objects) if p.long_running
    }
    assert len({account for _, account in long_running}) == len(SERVICES)


def test_requests_and_limits_are_set_and_requests_fit_the_limits(
    objects: tuple[Obj, ...],
) -> None:
    for pod, container in containers(objects):
        resources = container["resources"]
        for kind in ("cpu", "memory"):
            request = _quantity(resources["requests"][kind])
            limit = _quantity(resources["limits"][kind])
            assert 0 < request <= limit, (pod.name, kind)


def test_network_policies_allow_the_pipelines_flows_and_nothing_else(
    objects: tuple[Obj, ...],
) -> None:
    """Egress follows from the settings: Kafka for a container that has KAFKA_BOOTSTRAP_SERVERS,
    the database for one with DATABASE_URL, the venue for a venue connector, DNS for all.
    Ingress: the API's port, and metrics from the monitoring namespace only."""
    for pod, container in containers(objects):
        assert isolated(objects, pod.labels), pod.name
        env = container_env(container, objects, STAND_INS).values
        expected = {("UDP", 53), ("TCP", 53)}
        if env.get("KAFKA_BOOTSTRAP_SERVERS"):
            brokers = env["KAFKA_BOOTSTRAP_SERVERS"].split(",")
            expected |= {("TCP", int(b.rsplit(":", 1)[1])) for b in brokers}
        if "DATABASE_URL" in env:
            expected.add(("TCP", urlsplit(env["DATABASE_URL"]).port or 5432))
        if pod.component == "ingest":
            connector = settings_of(pod, container, objects).connector
            if connector not in ("simulator", "replay"):
                expected.add(("TCP", 443))
        if pod.component == "backfill":
            expected.add(("TCP", 443))  # the vendors' HTTPS
        if pod.component == "lake-export" and env["LAKE_URL"].startswith("s3://"):
            endpoint = env.get("AWS_ENDPOINT_URL")
            expected.add(("TCP", (urlsplit(endpoint).port if endpoint else None) or 443))
        egress = {(r.protocol, r.port) for r in allowed(objects, pod.labels, "Egress")}
        assert egress == expected, pod.name

        own_ports = {p["containerPort"] for p in container.get("ports", [])}
        ingress = [
            r for r in allowed(objects, pod.labels, "Ingress") if r.port in own_ports | {"*"}
        ]
        assert all(r.port != "*" for r in ingress), pod.name
        monitoring = [r for r in ingress if "monitoring" in r.peers]
        others = [r for r in ingress if r not in monitoring]
        assert {r.port for r in monitoring} == own_ports, pod.name
        if pod.component == "api":
            assert {r.port for r in others} == own_ports, pod.name
        else:
            assert others == [], pod.name


def test_no_secret_is_rendered_and_every_one_referenced_is_documented(
    objects: tuple[Obj, ...],
) -> None:
    for secret in of_kind(objects, "Secret"):
        assert not secret.get("data") and not secret.get("stringData"), secret["metadata"]
    docs = (REPO_ROOT / "docs" / "deploy" / "kubernetes.md").read_text()
    created = _created_secrets(docs)
    for name, key in secret_references(objects):
        assert name in created, f"docs/deploy/kubernetes.md never creates Secret {name}"
        if key is not None:
            assert key in created[name], f"docs/deploy/kubernetes.md: {name} lacks key {key}"


def _quantity(value: str | int | float) -> float:
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix, factor in sorted(units.items(), key=lambda u: -len(u[0])):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def _created_secrets(docs: str) -> dict[str, set[str]]:
    """Secret -> keys, from the `kubectl create secret generic` commands of the docs."""
    created: dict[str, set[str]] = {}
    commands = re.findall(r"kubectl[^\n]*create secret generic (\S+)((?:[^\n]*\\\n)*[^\n]*)", docs)
    for name, rest in commands:
        keys = re.findall(r"--from-(?:literal|file)=([\w.-]+)=", rest)
        created.setdefault(name, set()).update(keys)
    return created
