"""The compose files hold together: pinned images, existing builds and dependencies, healthy gates,
one-shot jobs, and .env.example as the exact table of the variables they read."""

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from tickwire_core.localstack._process import REPO_ROOT, versions

FILES = ("docker-compose.yml", "docker-compose.test.yml")
TEXTS = {name: (REPO_ROOT / name).read_text() for name in FILES}
DOCUMENTS = {name: yaml.safe_load(text) for name, text in TEXTS.items()}
COMPOSE = DOCUMENTS["docker-compose.yml"]
SERVICES: dict[str, dict[str, Any]] = {
    name: service for doc in DOCUMENTS.values() for name, service in doc["services"].items()
}
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)(?:(:?[-?])([^}]*))?\}")


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (REPO_ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


def has_healthcheck(build: dict[str, Any]) -> bool:
    dockerfile = REPO_ROOT / build["context"] / build.get("dockerfile", "Dockerfile")
    return any(line.startswith("HEALTHCHECK ") for line in dockerfile.read_text().splitlines())


def one_shot(service: dict[str, Any]) -> bool:
    return bool(service.get("restart", "no") == "no")


def test_images_use_the_versions_the_local_stack_pins() -> None:
    pinned = versions()
    services = COMPOSE["services"]
    kafka = f"apache/kafka:{pinned['KAFKA_VERSION']}"
    assert services["kafka"]["image"] == f"${{TICKWIRE_KAFKA_IMAGE:-{kafka}}}"
    timescaledb = (
        f"timescale/timescaledb:{pinned['TIMESCALEDB_VERSION']}-pg{pinned['POSTGRES_MAJOR']}"
    )
    variable = f"${{TICKWIRE_TIMESCALEDB_IMAGE:-{timescaledb}}}"
    assert services["timescaledb"]["image"] == variable
    assert services["db-roles"]["image"] == variable  # its psql, no second image to pull


def test_the_local_stack_images_are_tagged_with_the_pinned_versions() -> None:
    # The tags scripts/images.sh gives the images it builds for machines without a registry.
    pinned = versions()
    script = (REPO_ROOT / "scripts" / "images.sh").read_text()
    assert 'build "tickwire-kafka:$kafka_version"' in script
    # The full build under the public image's tag; the Apache-only one's tag says so.
    assert "ts_tag=tickwire-timescaledb:$ts_version-pg$pg_major\n" in script
    assert "[[ $license == apache ]] && ts_tag+=-apache\n" in script
    assert 'build "$ts_tag"' in script
    compose = (REPO_ROOT / "docker-compose.yml").read_text()
    assert f"tickwire-kafka:{pinned['KAFKA_VERSION']}" in compose
    local = f"tickwire-timescaledb:{pinned['TIMESCALEDB_VERSION']}-pg{pinned['POSTGRES_MAJOR']}"
    assert local in compose


def test_the_test_file_only_adds_services() -> None:
    # Compose merges a redefined service key by key; the tests here read the files as a union.
    added = set(DOCUMENTS["docker-compose.test.yml"]["services"])
    assert added and not added & set(COMPOSE["services"])


def test_every_dependency_exists_and_waits_for_the_right_condition() -> None:
    for name, service in SERVICES.items():
        for target, spec in (service.get("depends_on") or {}).items():
            assert target in SERVICES, f"{name} depends on unknown {target}"
            assert target != name
            condition = spec["condition"]
            dependency = SERVICES[target]
            if condition == "service_completed_successfully":
                assert one_shot(dependency), f"{name} waits for {target} to finish, it never does"
            else:
                assert condition == "service_healthy", (name, target, condition)
                check = dependency.get("healthcheck") or {}
                assert check.get("test") and not check.get("disable"), (
                    f"{name} waits for {target} to be healthy, which has no health check"
                )


def test_every_long_running_service_has_a_health_check_and_every_job_none() -> None:
    for name, service in SERVICES.items():
        check = service.get("healthcheck") or {}
        if one_shot(service):
            # A job built from an image with a HEALTHCHECK must not have the finished job marked
            # unhealthy, nor wait for a server that never comes.
            if "build" in service and has_healthcheck(service["build"]):
                assert check.get("disable") is True, name
        else:
            assert check.get("test") and not check.get("disable"), name
            assert check["test"][0] in ("CMD", "CMD-SHELL"), name


def test_every_build_has_its_context_dockerfile_and_a_real_service_package() -> None:
    built = {name: s["build"] for name, s in SERVICES.items() if "build" in s}
    assert {
        "topics",
        "ingest-primary",
        "ingest-replica",
        "normalize",
        "signals",
        "sink",
        "api",
    } <= set(built)
    for name, build in built.items():
        context = REPO_ROOT / build["context"]
        assert context.is_dir(), name
        assert (context / build.get("dockerfile", "Dockerfile")).is_file(), name
        target = (build.get("args") or {}).get("SERVICE")
        if target is None:
            continue
        manifest = REPO_ROOT / "services" / target / "pyproject.toml"
        assert manifest.is_file(), f"{name}: SERVICE={target} is not a service of services/"
        project = tomllib.loads(manifest.read_text())["project"]
        assert project["name"] == f"tickwire-{target}", name  # what `uv sync --package` names


def test_bind_mounted_files_exist_and_named_volumes_are_declared() -> None:
    for name, service in SERVICES.items():
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (REPO_ROOT / source).is_file(), f"{name} mounts a missing {source}"
            else:
                assert source in COMPOSE["volumes"], f"{name} uses an undeclared volume {source}"


def test_kafka_advertises_the_address_services_use_and_the_one_published_to_the_host() -> None:
    env = COMPOSE["services"]["kafka"]["environment"]
    listeners = dict(entry.split("://") for entry in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    bootstraps = {
        s["environment"]["KAFKA_BOOTSTRAP_SERVERS"]
        for s in SERVICES.values()
        if "KAFKA_BOOTSTRAP_SERVERS" in (s.get("environment") or {})
    }
    assert bootstraps == {listeners[env["KAFKA_INTER_BROKER_LISTENER_NAME"]]}
    host_port = listeners["HOST"].removeprefix("localhost:")  # ${KAFKA_HOST_PORT:-9092}
    published = COMPOSE["services"]["kafka"]["ports"]
    assert [f"127.0.0.1:{host_port}:9092"] == published
    assert (
        ":9092" in dict(entry.split("://") for entry in env["KAFKA_LISTENERS"].split(","))["HOST"]
    )


def ingest_feeds() -> dict[str, dict[str, dict[str, Any]]]:
    """feed -> instance -> service, from the names ingest-[<feed>-]<instance> (the simulator's
    pair, the default feed, has no feed in its names)."""
    feeds: dict[str, dict[str, dict[str, Any]]] = {}
    for name, service in SERVICES.items():
        if (service.get("build") or {}).get("args", {}).get("SERVICE") != "ingest":
            continue
        if "command" in service:  # the nightly backfill runs in the ingest image too
            continue
        match = re.fullmatch(r"ingest-(?:(?P<feed>[a-z0-9]+)-)?(?P<instance>primary|replica)", name)
        assert match, f"{name}: an ingest service is named ingest-[<feed>-]<instance>"
        feeds.setdefault(match["feed"] or "simulator", {})[match["instance"]] = service
    return feeds


def test_each_feed_runs_a_primary_and_a_replica_alike_but_for_their_instance() -> None:
    per_instance = {"TICKWIRE_INGEST_INSTANCE", "TICKWIRE_INSTANCE_ID"}
    feeds = ingest_feeds()
    assert "simulator" in feeds and len(feeds) > 1
    for feed, instances in feeds.items():
        assert sorted(instances) == ["primary", "replica"], feed
        envs = {i: s["environment"] for i, s in instances.items()}
        for instance, env in envs.items():
            assert env["TICKWIRE_INGEST_INSTANCE"] == instance, feed
        assert envs["primary"]["TICKWIRE_INSTANCE_ID"] != envs["replica"]["TICKWIRE_INSTANCE_ID"]
        shared = [{k: v for k, v in env.items() if k not in per_instance} for env in envs.values()]
        assert shared[0] == shared[1], feed
        assert shared[0]["TICKWIRE_CONNECTOR"] == feed
        without = {k: v for k, v in instances["primary"].items() if k != "environment"}
        assert without == {k: v for k, v in instances["replica"].items() if k != "environment"}


def test_the_simulator_feed_runs_by_default_and_each_venue_with_its_profile() -> None:
    for feed, instances in ingest_feeds().items():
        for service in instances.values():
            if feed == "simulator":
                assert "profiles" not in service
            else:
                # A venue is reached over the internet: only when asked for.
                assert sorted(service["profiles"]) == sorted(["venues", feed]), feed


def test_env_example_names_exactly_the_variables_compose_reads() -> None:
    used = {m[0] for text in TEXTS.values() for m in VARIABLE.findall(text)}
    assert used == set(env_example())
    # A bare $NAME would be interpolated too, unnoticed by the check above ($$ is a dollar the
    # container's shell gets).
    for text in TEXTS.values():
        assert not re.search(r"(?<!\$)\$(?![{$])", text)


def test_secrets_are_required_and_left_empty_and_defaults_agree_with_env_example() -> None:
    example = env_example()
    for text in TEXTS.values():
        for name, op, default in VARIABLE.findall(text):
            if name.endswith("PASSWORD"):
                # Compose refuses to start until it is set; .env.example holds no password.
                assert op == ":?", f"{name} must be read as ${{{name}:?...}}"
                assert example[name] == "", name
            elif op in (":-", "-") and name != "TICKWIRE_ALLOW_ANONYMOUS":
                # Without a .env, compose runs with the values the example documents. Open access
                # is the one exception: without a .env it stays closed.
                assert default == example[name], name
            else:
                assert op in (":-", "-"), f"{name}: give it a default or require it"


def test_published_ports_listen_on_loopback_only() -> None:
    for name, service in SERVICES.items():
        for mapping in service.get("ports") or []:
            assert str(mapping).startswith("127.0.0.1:"), f"{name} publishes {mapping} to all"


def test_services_connect_with_their_own_database_roles() -> None:
    roles = COMPOSE["services"]["db-roles"]["environment"]
    admin = COMPOSE["services"]["timescaledb"]["environment"]["POSTGRES_USER"]
    users = {
        name: Path(s["environment"]["DATABASE_URL"].split("://", 1)[1].split(":", 1)[0]).name
        for name, s in SERVICES.items()
        if "DATABASE_URL" in (s.get("environment") or {})
    }
    # The nightly jobs write (job_runs, the backfill's watermarks, the quality report): as the sink.
    jobs = {name: roles["SINK_DB_USER"] for name in ("backfill", "quality", "lake-export")}
    assert users == {
        "sink": roles["SINK_DB_USER"],
        "api": roles["API_DB_USER"],
        "tests": admin,
        **jobs,
    }
    assert roles["PGUSER"] == admin
    assert COMPOSE["services"]["sink"]["depends_on"]["db-roles"] == {
        "condition": "service_completed_successfully"
    }
