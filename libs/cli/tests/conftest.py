"""`tickwire` run as a user runs it, a process of its own with its output piped, in an environment
that names only what the test gives it: never a developer's local run or shell settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tickwire_testing.cli import Tickwire, closed_port


@pytest.fixture
def unreachable() -> str:
    """A broker or database address where nothing listens."""
    return f"127.0.0.1:{closed_port()}"


@pytest.fixture
def tickwire(tmp_path: Path) -> Tickwire:
    """The command with a state dir of its own and the local run's ports closed."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TICKWIRE_", "KAFKA_")) and k != "DATABASE_URL"
    }
    env.update(
        TICKWIRE_STATE_DIR=str(tmp_path / "state"),
        TICKWIRE_KAFKA_PORT=str(closed_port()),
        TICKWIRE_PG_PORT=str(closed_port()),
    )
    return Tickwire(env)
