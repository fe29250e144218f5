"""The compose file agrees with the rest of the repo: pinned versions, services, settings."""

import re
from pathlib import Path

import yaml

from tickwire_core.localstack._process import REPO_ROOT, versions

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


def test_images_use_the_versions_the_local_stack_pins() -> None:
    pinned = versions()
    services = COMPOSE["services"]
    assert services["kafka"]["image"] == f"apache/kafka:{pinned['KAFKA_VERSION']}"
    image = services["timescaledb"]["image"]
    assert (
        image
        == f"timescale/timescaledb:{pinned['TIMESCALEDB_VERSION']}-pg{pinned['POSTGRES_MAJOR']}"
    )


def test_every_built_service_exists_and_gets_the_connection_settings() -> None:
    built = {name: s for name, s in COMPOSE["services"].items() if "build" in s}
    assert {"sink", "normalize", "ingest", "api", "topics"} <= set(built)
    for name, service in built.items():
        target = service["build"]["args"]["SERVICE"]
        assert Path(REPO_ROOT / "services" / target / "pyproject.toml").is_file(), name
        env = service["environment"]
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:29092", name
        assert env["DATABASE_URL"].endswith("@timescaledb:5432/tickwire"), name


def test_env_example_names_every_variable_compose_reads() -> None:
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    example = (REPO_ROOT / ".env.example").read_text()
    names = {
        line.split("=")[0]
        for line in example.splitlines()
        if "=" in line and not line.startswith("#")
    }
    used = set(re.findall(r"\$\{([A-Z_]+)", text))
    assert used == names
