"""Tools the project's own install scripts provide to the tests (helm and kustomize, Airflow's
environment): the script is run, and the path it prints last is where the tool is."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tickwire_core.localstack._process import REPO_ROOT


def installed(script: str, timeout: float) -> Path:
    """The path scripts/`script` prints last, once it has installed (or found) its tool; fails the
    test with the script's errors when it cannot."""
    done = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stderr}"
    return Path(done.stdout.strip().splitlines()[-1])
