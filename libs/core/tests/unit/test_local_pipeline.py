"""The local run's services as processes, with and without a replica ingest beside the primary."""

from __future__ import annotations

from pathlib import Path

from tickwire_core.localstack.pipeline import (
    EPOCH_VAR,
    REPLICA,
    STOP_ORDER,
    Pipeline,
    service_names,
)


def pipeline(tmp_path: Path, replica: bool) -> Pipeline:
    ports = {"sink": 1, "normalize": 2, "signals": 3, "ingest": 4, "api": 5, REPLICA: 6}
    return Pipeline(
        tmp_path, "127.0.0.1:9", "postgresql://x@127.0.0.1:1/x", ports=ports, replica=replica
    )


def test_without_a_replica_one_ingest_runs(tmp_path: Path) -> None:
    run = pipeline(tmp_path, replica=False)
    assert list(run.services) == ["sink", "normalize", "signals", "ingest", "api"]
    assert "TICKWIRE_INGEST_INSTANCE" not in run.services["ingest"].env


def test_a_replica_runs_ingest_again_as_the_replica_instance(tmp_path: Path) -> None:
    run = pipeline(tmp_path, replica=True)
    assert list(run.services) == ["sink", "normalize", "signals", "ingest", REPLICA, "api"]
    replica, primary = run.services[REPLICA], run.services["ingest"]
    assert replica.env["TICKWIRE_INGEST_INSTANCE"] == "replica"
    assert replica.env["TICKWIRE_INSTANCE_ID"] == "local-ingest-replica"
    assert (replica.env["TICKWIRE_HEALTH_PORT"], primary.env["TICKWIRE_HEALTH_PORT"]) == ("6", "4")
    assert replica.pid_file.path.name == "ingest-replica.pid"
    assert replica.pid_file.marker == "tickwire_ingest"


def test_the_replica_stops_with_the_feed_first() -> None:
    assert service_names(True, STOP_ORDER)[:2] == ("ingest", REPLICA)
    assert service_names(False, STOP_ORDER) == STOP_ORDER


class _Process:
    pid = 4242


def test_a_primary_and_its_replica_are_given_one_venue_start(tmp_path: Path, monkeypatch) -> None:
    # The processes are not started: what is checked is the environment each one is given.
    started: list[dict[str, str]] = []
    monkeypatch.setattr(
        "tickwire_core.localstack.pipeline.spawn",
        lambda argv, log, env: started.append(dict(env)) or _Process(),
    )
    run = pipeline(tmp_path, replica=True)
    run.spawn("sink")
    assert EPOCH_VAR not in started[0]
    run.spawn("ingest")
    run.spawn(REPLICA)
    run.spawn("ingest")  # a restart keeps the venue's start
    epochs = {env[EPOCH_VAR] for env in started[1:]}
    assert len(epochs) == 1 and float(epochs.pop()) > 1.7e9

    alone = pipeline(tmp_path / "alone", replica=False)
    alone.spawn("ingest")
    assert EPOCH_VAR not in started[-1]
