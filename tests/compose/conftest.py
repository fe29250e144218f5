"""The compose stack, once for the tier: an .env of its own (fresh passwords, an API key, free host
ports, the local Kafka and TimescaleDB images), brought up in dependency order and taken down with
its volumes however the tier ends."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compose.stack import ComposeStack
from tests.images.containers import Images
from tickwire_core.localstack._process import free_port

# A restarted simulator instance continues its venue from the raw topic's last sequences
# (docs/simulator.md); the few updates it sends again are the other instance's copies, dropped
# while normalize remembers them. The tier's kills come minutes after the start on a loaded
# machine, so it remembers for the longest it allows.
DEDUP_WINDOW_S = "3600"
# The tier counts every published update among the stored ones: the clean feed, since a crossed
# book is published and then refused by normalize (docs/simulator.md).
SIM_FAULTS = "false"


def env_file(path: Path, images: Images, api_key: str) -> dict[str, str]:
    settings = {
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "SINK_DB_PASSWORD": secrets.token_hex(16),
        "API_DB_PASSWORD": secrets.token_hex(16),
        "TICKWIRE_API_KEY_HASHES": hashlib.sha256(api_key.encode()).hexdigest(),
        "TICKWIRE_ALLOW_ANONYMOUS": "false",
        "KAFKA_HOST_PORT": str(free_port()),
        "POSTGRES_HOST_PORT": str(free_port()),
        "API_HOST_PORT": str(free_port()),
        "NORMALIZE_METRICS_HOST_PORT": str(free_port()),
        "TICKWIRE_DEDUP_WINDOW_S": DEDUP_WINDOW_S,
        "TICKWIRE_SIM_FAULTS": SIM_FAULTS,
        "TICKWIRE_TOPIC_PREFIX": "",
        "TICKWIRE_KAFKA_IMAGE": images.tags["kafka"],
        "TICKWIRE_TIMESCALEDB_IMAGE": images.tags["timescaledb"],
        "TICKWIRE_IMAGE_TAG": images.tags["sink"].rpartition(":")[2],
    }
    path.write_text("".join(f"{name}={value}\n" for name, value in settings.items()))
    return settings


@pytest.fixture(scope="session")
def api_key() -> str:
    return secrets.token_hex(16)


@pytest.fixture(scope="session")
def compose_stack(
    images: Images, api_key: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ComposeStack]:
    folder = tmp_path_factory.mktemp("compose")
    project = f"tickwire-test-{os.getpid()}"
    settings = env_file(folder / ".env", images, api_key)
    stack = ComposeStack(images, project, folder / ".env", settings)
    started = time.monotonic()
    try:
        stack.up()
        waits = ", ".join(f"{name} {s:.0f} s" for name, s in stack.timings.items())
        print(f"compose stack up in {time.monotonic() - started:.0f} s ({waits})")
        yield stack
    finally:
        # The tier's last test takes it down itself; this is for a tier that ends early.
        if stack.leftovers(set())["containers"]:
            stack.compose("down", "--volumes", timeout=600)
