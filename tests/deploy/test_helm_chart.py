"""The Helm chart: lints strictly, refuses wrong values at install through values.schema.json, and
turns its switches (anonymous API, live stream, secret settings, disabled services) into the
manifests they promise. What every rendering must satisfy: test_k8s_*.py."""

from __future__ import annotations

import json

import pytest

from tests.deploy.k8s_env import STAND_INS, container_env, load
from tests.deploy.k8s_policies import allowed
from tests.deploy.k8s_render import (
    CHART,
    FIVE_VENUES_VALUES,
    PRODUCTION_VALUES,
    Obj,
    helm_render,
    helm_template,
    of_kind,
    parse,
    pods,
    run_tool,
    schema_problems,
)
from tickwire_core.localstack._process import versions
from tickwire_ingest.settings import IngestSettings

SECRETS = {**STAND_INS, ("tickwire-ig", "password"): "CST-abc|XST-def"}
KAFKA_PASSWORD = ("tickwire-kafka", "sasl-password")


def _pod(objects: tuple[Obj, ...], component: str) -> tuple[Obj, Obj]:
    pod = next(p for p in pods(objects) if p.component == component and p.long_running)
    return pod.template, pod.containers()[0]


def _env(objects: tuple[Obj, ...], component: str) -> dict[str, str]:
    _, container = _pod(objects, component)
    return container_env(container, objects, SECRETS).values


def test_the_pinned_helm_builds_and_reports_its_version() -> None:
    done = run_tool("helm", "version", "--template", "{{.Version}}")
    assert done.stdout.strip() == versions()["HELM_VERSION"]


@pytest.mark.parametrize(
    "values",
    [[], ["-f", str(PRODUCTION_VALUES)], ["-f", str(FIVE_VENUES_VALUES)]],
    ids=["defaults", "production", "five-venues"],
)
def test_helm_lint_strict_passes(values: list[str]) -> None:
    done = run_tool(
        "helm",
        "lint",
        "--strict",
        "--kube-version",
        versions()["KUBERNETES_VERSION"],
        str(CHART),
        *values,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[WARNING]" not in done.stdout and "[ERROR]" not in done.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--set", "normalize.replicas=two"], "/normalize/replicas"),
        (["--set", "sink.replica=2"], "'replica' not allowed"),
        (["--set", "ingest.autoscaling.enabled=true"], "'autoscaling' not allowed"),
        (["--set", "api.env.TICKWIRE_MAX_LIMIT=5"], "want string"),
        (["--set-string", "api.env.DATABASE_URL=postgresql://x"], "'DATABASE_URL'"),
        (["--set-string", "sink.env.tickwire_batch_size=10"], "'tickwire_batch_size'"),
        (["--set", "kafka.bootstrapServers="], "/kafka/bootstrapServers"),
        (["--set", "signals.autoscaling.targetCPUUtilizationPercentage=150"], "maximum"),
        (["--set", "api.service.type=Ingress"], "/api/service/type"),
    ],
    ids=[
        "replicas-two",
        "unknown-key",
        "ingest-autoscaling",
        "env-not-a-string",
        "env-the-chart-sets",
        "env-not-a-variable-name",
        "no-brokers",
        "cpu-target",
        "service-type",
    ],
)
def test_a_wrong_value_fails_at_install(args: list[str], says: str) -> None:
    done = helm_template(*args)
    assert done.returncode != 0
    assert "values don't meet the specifications of the schema" in done.stderr
    assert says in done.stderr, done.stderr


def test_secret_kafka_options_need_the_secret_they_come_from() -> None:
    done = helm_template("--set", "kafka.secretOptions.sasl\\.password=sasl-password")
    assert done.returncode != 0
    assert "kafka.existingSecret is required with kafka.secretOptions" in done.stderr


def test_secret_kafka_options_reach_the_client_config_without_passing_through_helm() -> None:
    objects = helm_render("-f", str(PRODUCTION_VALUES))
    for pod in pods(objects):
        for container in pod.containers():
            env = container_env(container, objects, {**SECRETS, KAFKA_PASSWORD: "kafka-pw"})
            if "KAFKA_BOOTSTRAP_SERVERS" not in env.values:
                continue
            config = json.loads(env.values["KAFKA_CLIENT_CONFIG"])
            assert config["sasl.password"] == "kafka-pw", pod.name
            assert config["security.protocol"] == "SASL_SSL", pod.name
            # The literal in the manifest is a reference, never the password.
            literal = next(v for v in container["env"] if v["name"] == "KAFKA_CLIENT_CONFIG")
            assert "kafka-pw" not in literal["value"] and "$(" in literal["value"], pod.name
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/etc/tickwire/kafka" in mounts, pod.name


def test_the_api_needs_keys_unless_anonymous_access_is_chosen() -> None:
    default = _env(helm_render(), "api")
    assert "TICKWIRE_ALLOW_ANONYMOUS" not in default
    _, container = _pod(helm_render(), "api")
    [keys] = [v for v in container["env"] if v["name"] == "TICKWIRE_API_KEY_HASHES"]
    assert keys["valueFrom"]["secretKeyRef"]["optional"] is False

    anonymous = helm_render(
        "--set", "api.auth.allowAnonymous=true", "--set", "api.auth.existingSecret="
    )
    env = _env(anonymous, "api")
    assert env["TICKWIRE_ALLOW_ANONYMOUS"] == "true"
    assert "TICKWIRE_API_KEY_HASHES" not in env

    done = helm_template("--set", "api.auth.existingSecret=")
    assert done.returncode != 0
    assert "api.auth.existingSecret is required unless api.auth.allowAnonymous" in done.stderr


def test_without_the_live_stream_the_api_neither_knows_nor_reaches_kafka() -> None:
    objects = helm_render("--set", "api.liveStream.enabled=false")
    assert "KAFKA_BOOTSTRAP_SERVERS" not in _env(objects, "api")
    template, _ = _pod(objects, "api")
    ports = {r.port for r in allowed(objects, template["metadata"]["labels"], "Egress")}
    assert 9092 not in ports
    with_stream = helm_render()
    template, _ = _pod(with_stream, "api")
    assert _env(with_stream, "api")["KAFKA_BOOTSTRAP_SERVERS"]
    assert 9092 in {r.port for r in allowed(with_stream, template["metadata"]["labels"], "Egress")}


def test_settings_from_secrets_reach_the_service() -> None:
    objects = helm_render(
        "--set-json", 'ingest.feeds=[{"name": "ig", "connector": "ig", "instruments": ["X"]}]',
        "--set", "ingest.secretEnv.TICKWIRE_IG_PASSWORD.name=tickwire-ig",
        "--set", "ingest.secretEnv.TICKWIRE_IG_PASSWORD.key=password",
    )  # fmt: skip
    assert schema_problems(objects) == []
    _, container = _pod(objects, "ingest")
    settings = load(IngestSettings, container_env(container, objects, SECRETS))
    assert settings.connector == "ig"
    assert settings.ig_password.get_secret_value() == "CST-abc|XST-def"


def test_a_setting_change_restarts_only_the_service_it_belongs_to() -> None:
    before = helm_render()
    after = helm_render("--set-string", "sink.env.TICKWIRE_BATCH_SIZE=1000")

    def checksums(objects: tuple[Obj, ...]) -> dict[str, str]:
        return {
            p.name: p.template["metadata"]["annotations"]["checksum/config"]
            for p in pods(objects)
            if p.long_running
        }

    changed = {name for name, value in checksums(after).items() if checksums(before)[name] != value}
    assert changed == {"tickwire-sink"}


def test_a_disabled_service_leaves_nothing_behind_and_the_rest_stays_valid() -> None:
    objects = helm_render(
        "--set", "signals.enabled=false", "--set", "topics.enabled=false",
        "--set", "migrations.enabled=false", "--set", "schedules.quality.enabled=false",
    )  # fmt: skip
    assert schema_problems(objects) == []
    components = {o["metadata"]["labels"].get("app.kubernetes.io/component") for o in objects}
    assert not components & {"signals", "topics", "migrate", "jobs", "quality"}
    assert {p.component for p in pods(objects)} == {"ingest", "normalize", "sink", "api"}


def test_names_fit_kubernetes_limits_for_a_long_release_name() -> None:
    done = run_tool(
        "helm", "template", "a-release-name-that-goes-on-and-on-and-on-for-ever", str(CHART),
        "--kube-version", versions()["KUBERNETES_VERSION"],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    objects = tuple(parse(done.stdout))
    for obj in objects:
        assert len(obj["metadata"]["name"]) <= 63, obj["metadata"]["name"]
    # A StatefulSet's pods carry a controller-revision-hash label made from its name.
    for stateful in of_kind(objects, "StatefulSet"):
        assert len(stateful["metadata"]["name"]) <= 52
