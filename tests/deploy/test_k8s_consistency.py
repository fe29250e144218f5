"""Every rendering of the manifests (conftest.py) is valid Kubernetes and agrees with the
services: their settings, ports, stop grace, topics, commands; lockdown: test_k8s_isolation.py."""

from __future__ import annotations

import re

from tests.deploy.k8s_env import (
    MODELS,
    SCHEDULED,
    STAND_INS,
    container_env,
    schedule_words,
    setting_names,
    settings_of,
)
from tests.deploy.k8s_policies import selects
from tests.deploy.k8s_render import (
    COMPONENT,
    FEED,
    SCALABLE,
    SERVICES,
    Obj,
    containers,
    ingest_pods,
    named,
    of_kind,
    pods,
    schema_problems,
)
from tickwire_core.localstack._process import REPO_ROOT
from tickwire_core.topics import load_topics


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
    for pod in ingest_pods(objects):
        env = container_env(pod.containers()[0], objects, STAND_INS)
        instances.setdefault(pod.labels.get(FEED), []).append(
            env.values["TICKWIRE_INGEST_INSTANCE"]
        )
        # Two pods of one feed instance would number their records from the same sequence.
        assert pod.owner["spec"]["replicas"] == 1
        assert pod.owner["spec"]["strategy"]["type"] == "Recreate"
    assert instances
    for feed, names in instances.items():
        assert sorted(names) == ["primary", "replica"], feed


def test_every_variable_set_on_a_container_is_a_setting_of_its_service(
    objects: tuple[Obj, ...],
) -> None:
    for pod, container in containers(objects):
        env = container_env(container, objects, STAND_INS)
        unknown = env.settings_names() - setting_names(MODELS[pod.component])
        assert not unknown, f"{pod.name}: {sorted(unknown)} are not settings of {pod.component}"


def test_every_service_starts_with_the_settings_it_is_given(objects: tuple[Obj, ...]) -> None:
    """Required settings are set and every value passes the service's own validation."""
    for pod, container in containers(objects):
        if pod.component == "migrate":
            # The migration command needs the owner's database URL and nothing else.
            env = container_env(container, objects, STAND_INS)
            assert env.values["DATABASE_URL"] == STAND_INS[("tickwire-database", "sink-url")]
            continue
        settings_of(pod, container, objects)  # raises naming the variable otherwise


def test_ports_and_probes_are_the_ones_the_services_listen_on(objects: tuple[Obj, ...]) -> None:
    for pod, container in containers(objects):
        if not pod.long_running:
            continue
        settings = settings_of(pod, container, objects)
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
    for pod, container in containers(objects):
        if not pod.long_running:
            continue
        settings = settings_of(pod, container, objects)
        pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {})
        needed = settings.stop_grace_s + pre_stop.get("seconds", 0)
        assert pod.spec["terminationGracePeriodSeconds"] > needed, pod.name


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


def test_images_are_the_services_and_run_their_modules(objects: tuple[Obj, ...]) -> None:
    import importlib.util

    for pod, container in containers(objects):
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
    for pod, container in containers(objects):
        if pod.component == "topics":
            command = container["command"]
            factors.add(int(command[command.index("--replication-factor") + 1]))
        if pod.component == "signals":
            settings = settings_of(pod, container, objects)
            factors.add(settings.table_replication_factor)
    assert len(factors) == 1, factors
