"""Each compose service gets what its settings model asks for, by the names the model reads: the
files interpolated with .env.example as Compose would, then each service's settings built."""

from __future__ import annotations

import importlib
import inspect
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tickwire_core.localstack._process import REPO_ROOT
from tickwire_core.settings import KafkaServiceSettings, ServiceSettings, env_name, load_settings

FILES = ("docker-compose.yml", "docker-compose.test.yml")
# Compose's interpolation: $$, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?err}, ${NAME?err}
VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})"
)
CONNECTION = {"KAFKA_BOOTSTRAP_SERVERS", "KAFKA_CLIENT_CONFIG", "DATABASE_URL"}


def env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


def interpolate(text: str, values: dict[str, str]) -> str:
    """As Compose does it; a required variable that is unset (or empty, for :?) raises."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        value = values.get(name)
        missing = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if missing else str(value)
        if op in (":?", "?") and missing:
            raise ValueError(f"{name}: {arg}")
        return value or ""

    return VARIABLE.sub(replace, text)


def example_values(texts: list[str]) -> dict[str, str]:
    """.env.example, with a value for each secret it leaves empty, as after someone set them."""
    values = env_file(REPO_ROOT / ".env.example")
    for text in texts:
        for match in VARIABLE.finditer(text):
            if match["op"] in (":?", "?") and not values.get(match["name"]):
                values[match["name"]] = f"secret-of-{match['name'].lower()}"
    return values


def load_services(**overrides: str) -> dict[str, dict[str, Any]]:
    """The services of both files, .env.example's values (and `overrides`) interpolated."""
    texts = [(REPO_ROOT / name).read_text() for name in FILES]
    values = {**example_values(texts), **overrides}
    services: dict[str, dict[str, Any]] = {}
    for text in texts:
        services.update(yaml.safe_load(interpolate(text, values))["services"])
    return services


SERVICES = load_services()


def environment(name: str) -> dict[str, str]:
    env = SERVICES[name].get("environment") or {}
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def settings_model(service: dict[str, Any]) -> type[ServiceSettings]:
    """The settings model of the package the service's image runs (tickwire_<SERVICE>.settings)."""
    module = importlib.import_module(f"tickwire_{service['build']['args']['SERVICE']}.settings")
    found = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, ServiceSettings)
        and obj.__module__ == module.__name__
    ]
    assert len(found) == 1, f"{module.__name__}: {found}"
    return found[0]


def runs_its_service(service: dict[str, Any]) -> bool:
    """Built from the service Dockerfile and running the image's own command (not a job)."""
    args = service.get("build", {}).get("args") or {}
    return "SERVICE" in args and "command" not in service


SERVICE_NAMES = sorted(name for name, s in SERVICES.items() if runs_its_service(s))


def names(model: type[ServiceSettings]) -> set[str]:
    return {env_name(model, field) for field in model.model_fields}


@pytest.fixture
def settings_of(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Builds a compose service's settings from its compose environment alone."""

    def build(name: str) -> ServiceSettings:
        import os

        for key in list(os.environ):
            if key.startswith("TICKWIRE_") or key in CONNECTION:
                monkeypatch.delenv(key)
        for key, value in environment(name).items():
            monkeypatch.setenv(key, value)
        return load_settings(settings_model(SERVICES[name]))

    return build


# Packages of services/ with no service to run: their image runs `tickwire` (the batch jobs).
BATCH = {"jobs"}


def test_every_tickwire_service_runs_in_compose() -> None:
    args = {SERVICES[name]["build"]["args"]["SERVICE"] for name in SERVICE_NAMES}
    packages = {
        p.name for p in (REPO_ROOT / "services").iterdir() if (p / "pyproject.toml").is_file()
    }
    assert args == packages - BATCH
    for package in BATCH:
        built = [s["build"].get("args") for s in SERVICES.values() if "build" in s]
        assert {"SERVICE": package, "SERVICE_MODULE": "tickwire_cli"} in built, package


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_every_required_setting_is_set(name: str) -> None:
    model = settings_model(SERVICES[name])
    required = {env_name(model, f) for f, info in model.model_fields.items() if info.is_required()}
    assert required, f"{model.__name__} requires nothing: is this the right model?"
    assert required <= set(environment(name)), f"{name} lacks {required - set(environment(name))}"


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_every_variable_set_is_a_setting_of_that_service(name: str) -> None:
    model = settings_model(SERVICES[name])
    unknown = {
        key
        for key in environment(name)
        if (key.startswith("TICKWIRE_") or key in CONNECTION) and key not in names(model)
    }
    assert not unknown, f"{name} sets {unknown}, which {model.__name__} never reads"


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_the_settings_build_from_the_compose_environment(name: str, settings_of: Any) -> None:
    # Values too, not only names: patterns, ranges, and checks across fields (the api's keys or
    # explicit open access) pass with what .env.example gives.
    settings = settings_of(name)
    if isinstance(settings, KafkaServiceSettings):
        assert settings.kafka_bootstrap_servers == "kafka:29092"


def test_every_service_and_the_topics_job_share_one_broker_and_topic_prefix() -> None:
    prefix = env_name(KafkaServiceSettings, "topic_prefix")
    bootstrap = env_name(KafkaServiceSettings, "kafka_bootstrap_servers")
    assert SERVICES["topics"]["command"][:3] == ["tickwire", "topics", "create"]
    job = environment("topics")
    # What `tickwire topics create` reads: the broker, the prefix and the client config.
    assert set(job) <= {prefix, *CONNECTION}
    assert job[bootstrap]
    readers = 0
    for name in SERVICE_NAMES:
        model = settings_model(SERVICES[name])
        if "topic_prefix" in model.model_fields:
            readers += 1
            assert environment(name).get(prefix) == job.get(prefix), name
        if "kafka_bootstrap_servers" in model.model_fields:
            assert environment(name).get(bootstrap) == job[bootstrap], name
    assert readers >= 5


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_the_health_check_probes_the_port_the_settings_say(name: str, settings_of: Any) -> None:
    settings = settings_of(name)
    port = getattr(settings, "health_port", None) or getattr(settings, "api_port", None)
    assert port, f"{name}: its settings name no health port"
    probe = " ".join(SERVICES[name]["healthcheck"]["test"])
    urls = re.findall(r"http://127\.0\.0\.1:(\d+)/(livez|readyz)", probe)
    assert urls == [(str(port), "readyz")], f"{name} probes {probe}"


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_docker_waits_longer_than_the_service_takes_to_stop(name: str, settings_of: Any) -> None:
    grace = SERVICES[name]["stop_grace_period"]
    assert grace.endswith("s"), grace
    assert float(grace[:-1]) > settings_of(name).stop_grace_s


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_the_root_filesystem_is_read_only_and_state_lives_on_volumes(
    name: str, settings_of: Any
) -> None:
    service = SERVICES[name]
    assert service["read_only"] is True
    assert "/tmp" in service["tmpfs"]
    mounts = [Path(v.split(":")[1]) for v in service.get("volumes") or []]
    data_dir = getattr(settings_of(name), "data_dir", None)
    if data_dir is not None:  # faust's working directory: on a volume, not in the image
        assert any(Path(data_dir).is_relative_to(m) for m in mounts), f"{name}: {data_dir}"


def test_every_kafka_client_gets_the_client_config_from_env_as_helm_and_kustomize_give_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Empty by default (the compose broker is plaintext); set in .env, it reaches every service
    # and job whose settings read it, as the chart's and the manifests' KAFKA_CLIENT_CONFIG does.
    # A marker stands for the JSON here: this test interpolates the text before YAML reads it,
    # where Compose interpolates the parsed strings, so a JSON value would be read as a mapping.
    marker = "client-config-from-env"
    config = '{"security.protocol": "SSL", "ssl.ca.location": "/etc/tickwire/ca.pem"}'
    assert env_file(REPO_ROOT / ".env.example")["KAFKA_CLIENT_CONFIG"] == ""
    services = load_services(KAFKA_CLIENT_CONFIG=marker)
    clients = [
        name
        for name in [*SERVICE_NAMES, "topics"]
        if name == "topics" or "kafka_client_config" in settings_model(SERVICES[name]).model_fields
    ]
    assert len(clients) >= 6
    for name in clients:
        env = services[name].get("environment") or {}
        assert env.get("KAFKA_CLIENT_CONFIG") == marker, f"{name} lacks KAFKA_CLIENT_CONFIG"
        assert environment(name)["KAFKA_CLIENT_CONFIG"] == "", name
        if name == "topics":
            continue
        for key in list(os.environ):
            if key.startswith("TICKWIRE_") or key in CONNECTION:
                monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(str(key), "" if value is None else str(value))
        monkeypatch.setenv("KAFKA_CLIENT_CONFIG", config)
        settings: Any = load_settings(settings_model(SERVICES[name]))
        assert settings.kafka_client_config["security.protocol"] == "SSL", name


def test_the_ingest_instances_differ_in_their_ingest_instance(settings_of: Any) -> None:
    primary, replica = settings_of("ingest-primary"), settings_of("ingest-replica")
    assert {primary.ingest_instance, replica.ingest_instance} == {"primary", "replica"}
    assert primary.sim_instrument_specs() == replica.sim_instrument_specs()
    assert primary.sim_seed == replica.sim_seed


VENUE_FEEDS = sorted(
    name
    for name in SERVICE_NAMES
    if SERVICES[name]["build"]["args"]["SERVICE"] == "ingest" and SERVICES[name].get("profiles")
)


@pytest.mark.parametrize("name", VENUE_FEEDS)
def test_each_venue_feed_has_what_its_connector_needs(name: str, settings_of: Any) -> None:
    from tickwire_ingest.connectors import make_venue

    settings = settings_of(name)
    assert name.startswith(f"ingest-{settings.connector}-")
    make_venue(settings)  # as at start-up: raises when the connector lacks a setting


def test_the_test_runner_uses_the_compose_broker_and_database() -> None:
    env = environment("tests")
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == environment("sink")["KAFKA_BOOTSTRAP_SERVERS"]
    admin = environment("timescaledb")
    assert env["DATABASE_URL"] == (
        f"postgresql://{admin['POSTGRES_USER']}:{admin['POSTGRES_PASSWORD']}"
        f"@timescaledb:5432/{admin['POSTGRES_DB']}"
    )
    assert "pytest" in SERVICES["tests"]["command"]
    assert "integration" in SERVICES["tests"]["command"]
