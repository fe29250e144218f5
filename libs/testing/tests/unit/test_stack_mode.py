"""How the suite's stack is chosen (TICKWIRE_TEST_STACK) and how the container stack is set up:
the mode named or refused, never swapped for another; containers owned by a process that ended
found as leftovers; the broker advertising the host port it is published on."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from tickwire_core.errors import ConfigError
from tickwire_core.localstack._process import versions
from tickwire_testing.container_stack import (
    ContainerStack,
    _owner,
    _owner_gone,
    image_license,
    local_images,
)
from tickwire_testing.plugin import stack_mode

KAFKA = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092"}
DATABASE = {"DATABASE_URL": "postgresql://u@127.0.0.1/db"}
PUBLIC_TIMESCALEDB = {"TICKWIRE_TIMESCALEDB_IMAGE": "timescale/timescaledb:2.19.3-pg15"}


@pytest.mark.parametrize(
    ("environ", "mode"),
    [
        ({}, "local"),
        ({"TICKWIRE_TEST_STACK": ""}, "local"),
        ({"TICKWIRE_TEST_STACK": "local"}, "local"),
        # Today's behaviour: a given address replaces that local process.
        ({**KAFKA}, "local"),
        ({"TICKWIRE_TEST_STACK": "local", **DATABASE}, "local"),
        ({"TICKWIRE_TEST_STACK": "env", **KAFKA, **DATABASE}, "env"),
        ({"TICKWIRE_TEST_STACK": "containers"}, "containers"),
    ],
)
def test_the_named_mode_is_the_mode(environ: dict[str, str], mode: str) -> None:
    assert stack_mode(environ) == mode


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"TICKWIRE_TEST_STACK": "docker"}, "'docker': expected one of local, env, containers"),
        ({"TICKWIRE_TEST_STACK": "env"}, "KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL"),
        ({"TICKWIRE_TEST_STACK": "env", **KAFKA}, "needs DATABASE_URL"),
        ({"TICKWIRE_TEST_STACK": "containers", **DATABASE}, "but DATABASE_URL name others"),
    ],
)
def test_a_mode_that_cannot_be_had_is_refused_by_name(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match="TICKWIRE_TEST_STACK") as refused:
        stack_mode(environ)
    assert named in str(refused.value)


def test_a_running_owner_keeps_its_containers_and_an_ended_one_leaves_leftovers() -> None:
    assert not _owner_gone(_owner(os.getpid()))
    host, pid, started = _owner(os.getpid()).split()
    ended = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True, check=True)
    assert _owner_gone(f"{host} {ended.stdout.strip()} {started}")
    # The same pid started at another time is another process.
    assert _owner_gone(f"{host} {pid} {int(started) - 1}")
    # Another host's processes cannot be seen from here: its containers are left alone.
    assert not _owner_gone(f"not-{socket.gethostname()} 1 0")
    assert not _owner_gone(socket.gethostname())  # not a label of ours


def test_the_broker_advertises_the_host_port_it_is_published_on() -> None:
    stack = ContainerStack({}, "timescale")
    env = stack._kafka_env()
    advertised = dict(
        listener.split("://") for listener in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    )
    assert advertised["PLAINTEXT"] == f"127.0.0.1:{stack.kafka_port}"
    # The broker's traffic to itself goes where it leads inside the container.
    assert advertised[env["KAFKA_INTER_BROKER_LISTENER_NAME"]] == "localhost:9094"
    assert stack.kafka_bootstrap_servers == f"127.0.0.1:{stack.kafka_port}"
    assert stack.kafka_port != stack.database_port


def test_the_database_container_runs_the_local_servers_settings() -> None:
    options = ContainerStack._postgres_options("apache")
    settings = dict(option.split("=", 1) for option in options[1::2])
    assert set(options[::2]) == {"-c"}
    assert settings["timescaledb.max_background_workers"] == "0"
    assert settings["timescaledb.license"] == "apache"
    assert settings["fsync"] == "off"
    unset = ContainerStack._postgres_options(None)
    assert "timescaledb.license" not in dict(option.split("=", 1) for option in unset[1::2])


def test_images_named_in_the_environment_replace_the_local_ones() -> None:
    local = local_images("timescale")
    assert ContainerStack({}, "timescale")._images == (local["kafka"], local["timescaledb"])
    named = {"TICKWIRE_KAFKA_IMAGE": "apache/kafka:4.3.1"}
    stack = ContainerStack(named, "timescale")
    assert stack._images == ("apache/kafka:4.3.1", local["timescaledb"])
    assert stack._to_build == ["timescaledb"]
    stack = ContainerStack(PUBLIC_TIMESCALEDB, None)
    assert stack._images == (local["kafka"], PUBLIC_TIMESCALEDB["TICKWIRE_TIMESCALEDB_IMAGE"])
    assert stack._to_build == ["kafka"]


def test_each_timescaledb_build_has_a_local_image_of_its_own() -> None:
    # The full build under the public image's tag, the Apache-only one under a tag saying so.
    full, apache = local_images("timescale")["timescaledb"], local_images("apache")["timescaledb"]
    pinned = versions()
    tag = f"{pinned['TIMESCALEDB_VERSION']}-pg{pinned['POSTGRES_MAJOR']}"
    assert full == f"tickwire-timescaledb:{tag}"
    assert apache == f"{full}-apache"
    assert ContainerStack({}, "apache")._images[1] == apache
    assert ContainerStack({}, "timescale")._images[1] == full
    # A license asked for is the image's build, without looking at the machine.
    assert image_license("apache") == "apache"
    assert image_license("timescale") == "timescale"
