"""Every rendering of the manifests (both kustomize overlays; the chart with its defaults, the
production example: TLS/SASL, autoscaling, everything on, and the five-venue example) is valid
Kubernetes and agrees with the services: their settings, ports, stop grace, topics, the flows
between them, and a feed's instances kept in different zones."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy.k8s_tools import (
    COMPONENT,
    FEED,
    FIVE_VENUES_VALUES,
    MODELS,
    PRODUCTION_VALUES,
    SCALABLE,
    SCHEDULED,
    SERVICES,
    STAND_INS,
    ZONE,
    Obj,
    Pod,
    allowed,
    container_env,
    helm_render,
    isolated,
    kept_apart,
    kustomize_build,
    load,
    named,
    of_kind,
    pods,
    schedule_words,
    schema_problems,
    selects,
    setting_names,
)
from tickwire_core.localstack._process import REPO_ROOT
from tickwire_core.topics import load_topics

RENDERINGS: dict[str, Callable[[], tuple[Obj, ...]]] = {
    "kustomize-dev": lambda: kustomize_build("dev"),
    "kustomize-prod": lambda: kustomize_build("prod"),
    "helm-defaults": lambda: helm_render(),
    "helm-production": lambda: helm_render("-f", str(PRODUCTION_VALUES)),
    "helm-five-venues": lambda: helm_render("-f", str(FIVE_VENUES_VALUES)),
}

SECRETS = STAND_INS
RUNS_AS = 10001


@pytest.fixture(params=sorted(RENDERINGS), scope="module")
def objects(request: pytest.FixtureRequest) -> tuple[Obj, ...]:
    return RENDERINGS[request.param]()


def _containers(objects: tuple[Obj, ...]) -> list[tuple[Pod, Obj]]:
    return [(pod, c) for pod in pods(objects) for c in pod.containers()]


def _ingest(objects: tuple[Obj, ...]) -> list[Pod]:
    return [pod for pod in pods(objects) if pod.component == "ingest"]


def _settings(pod: Pod, container: Obj, objects: tuple[Obj, ...]) -> Any:
    return load(MODELS[pod.component], container_env(container, objects, SECRETS))


def test_every_object_is_valid_for_the_pinned_kubernetes_version(
    objects: tuple[Obj, ...],
) -> None:
    assert schema_problems(objects) == []


def test_every_service_runs_and_each_feed_runs_a_primary_and_a_replica(
    objects: tuple[Obj, ...],
) -> None:
    running = {pod.component for pod in pods(objects) if pod.long_running}
    assert running == set(SERVICES)
    instances: dict[str | None, list[str]] = {}
    for pod in _ingest(objects):
        env = container_env(pod.containers()[0], objects, SECRETS)
        instances.setdefault(pod.labels.get(FEED), []).append(
            env.values["TICKWIRE_INGEST_INSTANCE"]
        )
        # Two pods of one feed instance would number their records from the same sequence.
        assert pod.owner["spec"]["replicas"] == 1
        assert pod.owner["spec"]["strategy"]["type"] == "Recreate"
    assert instances
    for feed, names in instances.items():
        assert sorted(names) == ["primary", "replica"], feed


def test_a_feeds_instances_must_run_in_different_zones_and_other_feeds_are_free(
    objects: tuple[Obj, ...],
) -> None:
    """What the redundancy is for: a zone's loss leaves each feed one instance. Pods of different
    feeds may share a zone (five feeds must not need ten zones)."""
    ingest = _ingest(objects)
    for i, a in enumerate(ingest):
        for b in ingest[i + 1 :]:
            apart = kept_apart(a, b)
            if a.labels.get(FEED) == b.labels.get(FEED):
                assert apart == {ZONE}, (a.name, b.name)
            else:
                assert apart == set(), (a.name, b.name)


def test_every_variable_set_on_a_container_is_a_setting_of_its_service(
    objects: tuple[Obj, ...],
) -> None:
    for pod, container in _containers(objects):
        env = container_env(container, objects, SECRETS)
        unknown = env.settings_names() - setting_names(MODELS[pod.component])
        assert not unknown, f"{pod.name}: {sorted(unknown)} are not settings of {pod.component}"


def test_every_service_starts_with_the_settings_it_is_given(objects: tuple[Obj, ...]) -> None:
    """Required settings are set and every value passes the service's own validation."""
    for pod, container in _containers(objects):
        if pod.component == "migrate":
            # The migration command needs the owner's database URL and nothing else.
            env = container_env(container, objects, SECRETS)
            assert env.values["DATABASE_URL"] == SECRETS[("tickwire-database", "sink-url")]
            continue
        _settings(pod, container, objects)  # raises naming the variable otherwise


def test_ports_and_probes_are_the_ones_the_services_listen_on(objects: tuple[Obj, ...]) -> None:
    for pod, container in _containers(objects):
        if not pod.long_running:
            continue
        settings = _settings(pod, container, objects)
        port = settings.api_port if pod.component == "api" else settings.health_port
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert list(ports.values()) == [port], pod.name
        for probe, path in (
            ("livenessProbe", "/livez"),
            ("readinessProbe", "/readyz"),
            ("startupProbe", "/livez"),
        ):
            get = container[probe]["httpGet"]
            assert get["path"] == path, (pod.name, probe)
            assert ports.get(get["port"], get["port"]) == port, (pod.name, probe)


def test_the_grace_period_outlasts_the_services_own_stop_grace(objects: tuple[Obj, ...]) -> None:
    for pod, container in _containers(objects):
        if not pod.long_running:
            continue
        settings = _settings(pod, container, objects)
        pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {})
        needed = settings.stop_grace_s + pre_stop.get("seconds", 0)
        assert pod.spec["terminationGracePeriodSeconds"] > needed, pod.name


def test_every_container_runs_locked_down(objects: tuple[Obj, ...]) -> None:
    for pod, container in _containers(objects):
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
    for pod, container in _containers(objects):
        empty_dirs = {v["name"] for v in pod.spec["volumes"] if "emptyDir" in v}
        writable = {
            m["mountPath"]: m["name"]
            for m in container["volumeMounts"]
            if not m.get("readOnly") and m["name"] in empty_dirs
        }
        assert "/tmp" in writable, pod.name
        if pod.component == "signals":
            data_dir = _settings(pod, container, objects).data_dir
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
    for pod, container in _containers(objects):
        resources = container["resources"]
        for kind in ("cpu", "memory"):
            request = _quantity(resources["requests"][kind])
            limit = _quantity(resources["limits"][kind])
            assert 0 < request <= limit, (pod.name, kind)


def test_only_the_scalable_services_autoscale_within_their_partitions(
    objects: tuple[Obj, ...],
) -> None:
    topics = load_topics()
    scaled = {}
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        workload = named(objects, target["kind"], target["name"])
        component = workload["spec"]["template"]["metadata"]["labels"][COMPONENT]
        assert component not in scaled, f"two autoscalers for {component}"
        scaled[component] = hpa["spec"]
    assert sorted(scaled) == sorted(SCALABLE)
    for component, spec in scaled.items():
        assert 1 <= spec["minReplicas"] <= spec["maxReplicas"], component
        [metric] = spec["metrics"]
        assert metric["resource"]["name"] == "cpu", component
        partitions = [t.partitions for t in topics if component in t.consumers]
        if component != "api":
            # A consumer-group member beyond the partition count gets nothing to do.
            assert spec["maxReplicas"] <= max(partitions), component


def test_every_service_has_a_disruption_budget_and_a_service(objects: tuple[Obj, ...]) -> None:
    for pod in pods(objects):
        if not pod.long_running:
            continue
        budgets = [
            b
            for b in of_kind(objects, "PodDisruptionBudget")
            if selects(b["spec"]["selector"], pod.labels)
        ]
        assert len(budgets) == 1 and budgets[0]["spec"]["maxUnavailable"] == 1, pod.name
        ports = {p["name"] for c in pod.containers() for p in c["ports"]}
        services = [
            s
            for s in of_kind(objects, "Service")
            if selects({"matchLabels": s["spec"]["selector"]}, pod.labels)
        ]
        assert services, pod.name
        for service in services:
            assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports, pod.name


def test_network_policies_allow_the_pipelines_flows_and_nothing_else(
    objects: tuple[Obj, ...],
) -> None:
    """Egress follows from the settings: Kafka for a container that has KAFKA_BOOTSTRAP_SERVERS,
    the database for one with DATABASE_URL, the venue for a venue connector, DNS for all.
    Ingress: the API's port, and metrics from the monitoring namespace only."""
    for pod, container in _containers(objects):
        assert isolated(objects, pod.labels), pod.name
        env = container_env(container, objects, SECRETS).values
        expected = {("UDP", 53), ("TCP", 53)}
        if env.get("KAFKA_BOOTSTRAP_SERVERS"):
            brokers = env["KAFKA_BOOTSTRAP_SERVERS"].split(",")
            expected |= {("TCP", int(b.rsplit(":", 1)[1])) for b in brokers}
        if "DATABASE_URL" in env:
            expected.add(("TCP", urlsplit(env["DATABASE_URL"]).port or 5432))
        if pod.component == "ingest":
            connector = _settings(pod, container, objects).connector
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
    from tests.deploy.k8s_tools import secret_references

    for secret in of_kind(objects, "Secret"):
        assert not secret.get("data") and not secret.get("stringData"), secret["metadata"]
    docs = (REPO_ROOT / "docs" / "deploy" / "kubernetes.md").read_text()
    created = _created_secrets(docs)
    for name, key in secret_references(objects):
        assert name in created, f"docs/deploy/kubernetes.md never creates Secret {name}"
        if key is not None:
            assert key in created[name], f"docs/deploy/kubernetes.md: {name} lacks key {key}"


def test_images_are_the_services_and_run_their_modules(objects: tuple[Obj, ...]) -> None:
    import importlib.util

    for pod, container in _containers(objects):
        repository = container["image"].rsplit(":", 1)[0]
        match = re.fullmatch(r"ghcr\.io/tickwire/tickwire-(\w+)", repository)
        assert match, container["image"]
        service = match.group(1)
        assert (REPO_ROOT / "services" / service / "pyproject.toml").is_file()
        if pod.long_running:
            assert service == pod.component, pod.name
        command = container["command"]
        if command[:2] == ["sh", "-c"]:  # a nightly job: its day computed by the shell
            command = schedule_words(command[2])
        if command[0] == "tickwire":  # the console script every image installs
            if pod.component in SCHEDULED:
                assert service == SCHEDULED[pod.component], pod.name
            assert_a_tickwire_command(command[1:])
            continue
        assert command[:2] == ["python", "-m"], pod.name
        module = command[2]
        # The module is the image's own service, or the shared library it carries.
        assert module.split(".")[0] in (f"tickwire_{service}", "tickwire_core"), pod.name
        assert importlib.util.find_spec(module) is not None, module


def assert_a_tickwire_command(args: list[str]) -> None:
    """`args` name a command of `tickwire` and its options parse (or raise)."""
    import typer
    from typer.core import TyperGroup

    from tickwire_cli.app import app

    command = typer.main.get_command(app)
    words = list(args)
    assert isinstance(command, TyperGroup)
    if "--config" in words:
        # A file of the pod's (from a ConfigMap), not of this machine: any file stands in for it
        # (tests/deploy/test_schedules.py reads the ConfigMap's own).
        words[words.index("--config") + 1] = __file__
    while isinstance(command, TyperGroup) and words and words[0] in command.commands:
        command = command.commands[words.pop(0)]
    assert not isinstance(command, TyperGroup), f"tickwire {' '.join(args)}: not a command"
    command.make_context("tickwire", words)


def test_signals_state_and_the_topics_share_one_replication_factor(
    objects: tuple[Obj, ...],
) -> None:
    factors = set()
    for pod, container in _containers(objects):
        if pod.component == "topics":
            command = container["command"]
            factors.add(int(command[command.index("--replication-factor") + 1]))
        if pod.component == "signals":
            settings = _settings(pod, container, objects)
            factors.add(settings.table_replication_factor)
    assert len(factors) == 1, factors


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
