"""The operational commands without a broker or database: every command's help has an example,
wrong arguments are usage errors (2), an unreachable broker or database is one line (1), the
local run's addresses are the defaults, and the topic table comparison finds each difference."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperGroup

from tickwire_cli.app import app
from tickwire_cli.commands.topics import Found, mismatches
from tickwire_cli.context import Env
from tickwire_cli.errors import UsageError
from tickwire_core.localstack.runner import RunnerPidFile
from tickwire_core.topics import load_topics


def commands(group: TyperGroup, path: str = "tickwire") -> list[tuple[str, Any]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{path} {name}", command))
        if isinstance(command, TyperGroup):
            found += commands(command, f"{path} {name}")
    return found


ROOT = typer.main.get_command(app)
assert isinstance(ROOT, TyperGroup)
ALL = commands(ROOT)


def test_the_operational_commands_are_there() -> None:
    names = {path for path, _ in ALL}
    assert names >= {
        "tickwire run",
        "tickwire stop",
        "tickwire status",
        "tickwire topics create",
        "tickwire topics check",
        "tickwire topics describe",
        "tickwire migrate",
        "tickwire record",
        "tickwire replay",
    }


@pytest.mark.parametrize(("path", "command"), ALL, ids=[p for p, _ in ALL])
def test_every_help_has_an_example(path: str, command: Any) -> None:
    examples = [line for line in (command.help or "").splitlines() if "Example: " in line]
    assert examples, f"`{path} --help` shows no example"
    assert all("tickwire " in line for line in examples)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["replay", "x.jsonl"], "'file'"),
        (["replay", "{file}", "--speed", "fast"], "'--speed'"),
        (["replay", "{file}", "--speed", "-2"], "'--speed'"),
        (["record", "out.jsonl", "--from", "yesterday"], "--from"),
        (["record", "out.jsonl", "--max", "-1"], "'--max'"),
        (["status", "--heartbeat-timeout", "0"], "'--heartbeat-timeout'"),
        (["topics", "check", "extra"], "extra"),
    ],
)
def test_wrong_arguments_are_usage_errors_in_one_line(tickwire, tmp_path, args, named) -> None:
    file = tmp_path / "in.jsonl"
    file.write_text("")
    done = tickwire(*(a.format(file=file) for a in args))
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("tickwire: error: ") and named in line


@pytest.mark.parametrize(
    "args",
    [
        ["topics", "check"],
        ["topics", "describe"],
        ["record", "out.jsonl", "--max", "1"],
        ["replay", "{file}"],
    ],
)
def test_an_unreachable_broker_is_one_line_and_exit_1(tickwire, tmp_path, args) -> None:
    file = tmp_path / "in.jsonl"
    file.write_text("")
    done = tickwire(*(a.format(file=file) for a in args))  # the local run's broker: a closed port
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    port = tickwire.env["TICKWIRE_KAFKA_PORT"]
    assert line.startswith(f"tickwire: error: cannot reach Kafka at 127.0.0.1:{port}: ")


def test_migrate_against_no_database_is_one_line_and_exit_1(tickwire) -> None:
    done = tickwire.with_env(DATABASE_URL="postgresql://nobody:secret@127.0.0.1:1/none")("migrate")
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("tickwire: error: cannot reach the database at 127.0.0.1:1/none: ")
    assert "secret" not in line


def test_a_batch_job_against_no_database_is_one_line_and_exit_1(tickwire) -> None:
    # The job's log is the first thing it needs: before any vendor is asked anything.
    backfill = tickwire.with_env(DATABASE_URL="postgresql://nobody:secret@127.0.0.1:1/none")
    done = backfill("backfill", "yahoo", "--instruments", "AAPL", "--since", "2024-01-01")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("tickwire: error: cannot reach the database at 127.0.0.1:1/none: ")
    assert "the job's run is logged there" in line and "secret" not in line


def test_migrate_with_a_malformed_url_is_a_usage_error(tickwire) -> None:
    done = tickwire.with_env(DATABASE_URL="postgresql://[::1")("migrate")
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("tickwire: error: DATABASE_URL is not a database URL")


def test_stop_with_nothing_running_says_so(tickwire) -> None:
    done = tickwire("stop")
    assert (done.returncode, done.stdout) == (0, "stopped: nothing was running\n")


def test_the_defaults_are_the_local_run(monkeypatch, tmp_path) -> None:
    for name in list(os.environ):
        if name.startswith(("TICKWIRE_", "KAFKA_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    (tmp_path / "postgres").mkdir()
    (tmp_path / "postgres" / "password").write_text("c0ffee\n")
    monkeypatch.setenv("TICKWIRE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("TICKWIRE_PG_PORT", "25432")
    monkeypatch.setenv("TICKWIRE_KAFKA_PORT", "29092")
    env = Env.build()
    assert env.database_url == "postgresql://tickwire:c0ffee@127.0.0.1:25432/tickwire"
    assert env.bootstrap_servers == "127.0.0.1:29092"
    assert not env.kafka_named and not env.database_named
    named = Env.build("kafka:9092", "host=db dbname=ticks user=x password=y")
    assert named.kafka_named and named.database_named
    assert named.database_display() == "db/ticks"
    monkeypatch.setenv("TICKWIRE_PG_PORT", "postgres")
    with pytest.raises(UsageError, match="TICKWIRE_PG_PORT='postgres' is not a port number"):
        Env.build()
    monkeypatch.setenv("TICKWIRE_PG_PORT", "25432")
    assert env.local.timescaledb_license is None  # the full build where installed
    monkeypatch.setenv("TICKWIRE_TIMESCALEDB_LICENSE", "apache")
    assert Env.build().local.timescaledb_license == "apache"
    monkeypatch.setenv("TICKWIRE_TIMESCALEDB_LICENSE", "enterprise")
    with pytest.raises(UsageError, match="TICKWIRE_TIMESCALEDB_LICENSE='enterprise' is neither"):
        Env.build()


def test_a_wrong_kafka_security_setting_is_a_usage_error_that_hides_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "KAFKA_CLIENT_CONFIG", '{"sasl.username": "svc", "sasl.password": "pw-8d1e4f"}'
    )
    with pytest.raises(UsageError, match=r"set but security\.protocol=PLAINTEXT") as err:
        Env.build("kafka:9092", "postgresql://db/ticks")
    assert "pw-8d1e4f" not in str(err.value)
    monkeypatch.setenv(
        "KAFKA_CLIENT_CONFIG",
        '{"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",'
        ' "sasl.username": "svc", "sasl.password": "pw-8d1e4f"}',
    )
    env = Env.build("kafka:9092", "postgresql://db/ticks")
    assert env.kafka_config()["sasl.password"] == "pw-8d1e4f"
    assert "pw-8d1e4f" not in repr(env)


def test_the_runner_pid_file_knows_its_own_process_only(tmp_path: Path) -> None:
    pid_file = RunnerPidFile(tmp_path)
    pid_file.write_self()
    assert pid_file.live_pid() == os.getpid()
    # The same pid with another command line is a reused pid, not a runner: forgotten.
    pid_file.path.write_text(f"{os.getpid()}\nsomething else entirely\n")
    assert pid_file.live_pid() is None
    assert not pid_file.path.exists()


def test_the_topic_table_comparison_names_each_difference() -> None:
    table = load_topics()
    raw, bars, status = table[0], table[2], table[-1]
    found = {
        t.name: Found(t.name, t.partitions, {**t.config(), "min.insync.replicas": "1"})
        for t in table
        if t is not status
    }
    assert mismatches(table, found) == [f"{status.name}: missing"]
    found[raw.name] = Found(raw.name, raw.partitions + 1, raw.config())
    found[bars.name] = Found(bars.name, bars.partitions, {"cleanup.policy": "compact"})
    assert mismatches(table, found) == [
        f"{raw.name}: {raw.partitions + 1} partitions, the topic table says {raw.partitions}",
        f"{bars.name}: cleanup.policy=compact, the topic table says {bars.cleanup_policy}",
        f"{bars.name}: retention.ms=None, the topic table says {bars.retention_ms}",
        f"{status.name}: missing",
    ]
