"""The images `make images` builds, built once per session by scripts/images.sh (which installs
a container runtime where none works, and rebuilds only images whose inputs changed): the images
tier runs them one by one, the compose tier as the compose file's stack."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.images.containers import JOBS, SERVICES, Images
from tickwire_core.localstack._process import REPO_ROOT


@pytest.fixture(scope="session")
def images() -> Images:
    started = time.monotonic()
    built = subprocess.run(
        ["bash", "scripts/images.sh"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert built.returncode == 0, built.stderr[-6000:]
    runtime = subprocess.run(
        ["bash", "scripts/install-containers.sh"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout.split()[-1]
    tags = {}
    for line in built.stdout.splitlines():
        tag = line.split()[0]
        tags[tag.split(":")[0].removeprefix("tickwire-")] = tag
    assert set(tags) == {*SERVICES, JOBS, "tests", "kafka", "timescaledb"}, tags
    print(f"images ready in {time.monotonic() - started:.0f} s with {runtime}")
    return Images(runtime, tags)
