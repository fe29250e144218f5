"""Every service refuses to start without its settings and says which are missing (exit code 2)."""

import os
import subprocess
import sys

import pytest

CASES = {
    "tickwire_ingest": ["KAFKA_BOOTSTRAP_SERVERS"],
    "tickwire_normalize": ["KAFKA_BOOTSTRAP_SERVERS"],
    "tickwire_sink": ["KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"],
    "tickwire_api": ["DATABASE_URL"],
}


def run(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"} and not k.startswith("TICKWIRE_")
    }
    return subprocess.run(
        [sys.executable, "-m", module],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("module", sorted(CASES))
def test_missing_settings_stop_start_up_naming_each(module: str) -> None:
    result = run(module)
    assert result.returncode == 2, result.stderr
    for name in CASES[module]:
        assert f" {name} is required but not set" in result.stderr
    assert "TICKWIRE_KAFKA" not in result.stderr and "TICKWIRE_DATABASE" not in result.stderr


def test_a_wrong_value_is_named() -> None:
    result = run(
        "tickwire_ingest", KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1", TICKWIRE_SIM_INSTRUMENTS="BTC:-5"
    )
    assert result.returncode == 2
    assert "TICKWIRE_SIM_INSTRUMENTS='BTC:-5'" in result.stderr
    assert "price and tick size must be positive" in result.stderr
