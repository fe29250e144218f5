"""The suite's Kafka and TimescaleDB as containers, started through testcontainers on the Docker API
that DOCKER_HOST names (docker, or podman's Docker-compatible service): the stack's third mode.

Each container carries the label OWNER_LABEL, naming the host, pid and start time of the pytest
process that started it. The session removes its own containers at its end; a session that died
before that leaves them behind, and the next session on the same host removes every labelled
container whose owner no longer runs. testcontainers' own reaper (Ryuk) stays off: it is one more
container, mounting the Docker socket (privileged under podman), from an image that machines
without a registry cannot pull, and the labels already do its work."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from confluent_kafka.admin import AdminClient
from docker.errors import ImageNotFound
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.docker_client import DockerClient

from tickwire_core.errors import StackError
from tickwire_core.localstack._process import REPO_ROOT, free_port, versions
from tickwire_core.localstack.postgres import SUPERUSER, server_settings
from tickwire_core.localstack.timescaledb import APACHE, LICENSE_VAR, TIMESCALE, full_build

logger = logging.getLogger(__name__)

OWNER_LABEL = "tickwire.test-stack.owner"
KAFKA_IMAGE_VAR = "TICKWIRE_KAFKA_IMAGE"
TIMESCALEDB_IMAGE_VAR = "TICKWIRE_TIMESCALEDB_IMAGE"
DATABASE = "tickwire"
# A cold JVM or initdb on two busy cores; the image tests measured 10-40 s.
READY_TIMEOUT = 180.0


def local_images(timescaledb_license: str) -> dict[str, str]:
    """The tags scripts/images.sh gives its Kafka and TimescaleDB images (podman lists them under
    localhost/), by the name images.sh takes as an argument; the TimescaleDB one of the build that
    runs `timescaledb_license` (the Apache-only build's tag says so)."""
    pinned = versions()
    timescaledb = f"{pinned['TIMESCALEDB_VERSION']}-pg{pinned['POSTGRES_MAJOR']}"
    if timescaledb_license == APACHE:
        timescaledb += "-apache"
    return {
        "kafka": f"tickwire-kafka:{pinned['KAFKA_VERSION']}",
        "timescaledb": f"tickwire-timescaledb:{timescaledb}",
    }


def image_license(requested: str | None) -> str:
    """The build of the local TimescaleDB image for `requested` (see requested_license): the one the
    local stack would run, as scripts/images.sh chooses it. Only None looks at the machine."""
    if requested is not None:
        return requested
    return TIMESCALE if full_build() is not None else APACHE


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot: with its pid, it names one process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2) may hold spaces, so count from its closing bracket.
    return stat.rsplit(")", 1)[1].split()[19]


def _owner(pid: int) -> str:
    return f"{socket.gethostname()} {pid} {_start_time(pid)}"


def _owner_gone(owner: str) -> bool:
    parts = owner.split(" ", 2)
    # Another host's containers are left alone: its processes cannot be seen from here. So is a
    # label this module did not write.
    if len(parts) != 3 or parts[0] != socket.gethostname():
        return False
    _, pid, started = parts
    return not (pid.isdigit() and _start_time(int(pid)) == started)


class ContainerStack:
    """A single-node KRaft broker and a PostgreSQL with TimescaleDB, each in a container whose
    port is published on 127.0.0.1; `environ` names the images (TICKWIRE_KAFKA_IMAGE,
    TICKWIRE_TIMESCALEDB_IMAGE), else the local ones scripts/images.sh builds, TimescaleDB's of
    the build the local stack would run (image_license), whose license the start checks."""

    def __init__(self, environ: Mapping[str, str], timescaledb_license: str | None) -> None:
        named = environ.get(TIMESCALEDB_IMAGE_VAR)
        # The build a local image carries is known, so it is checked; a named image's is not.
        self._image_license = None if named else image_license(timescaledb_license)
        local = local_images(self._image_license or TIMESCALE)
        self._kafka_image = environ.get(KAFKA_IMAGE_VAR) or local["kafka"]
        self._timescaledb_image = named or local["timescaledb"]
        self._to_build = [name for name, tag in local.items() if tag in self._images]
        self._license = timescaledb_license
        self._password = secrets.token_hex(16)
        # Chosen before the start: the broker must advertise the port the host reaches it on.
        self.kafka_port = free_port()
        self.database_port = free_port()
        self._containers: list[DockerContainer] = []
        self._admin: AdminClient | None = None

    @property
    def _images(self) -> tuple[str, str]:
        return self._kafka_image, self._timescaledb_image

    @property
    def kafka_bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def database_url(self) -> str:
        return self._url(self.database_port)

    def _url(self, port: int) -> str:
        return f"postgresql://{SUPERUSER}:{self._password}@127.0.0.1:{port}/{DATABASE}"

    def start(self) -> None:
        testcontainers_config.ryuk_disabled = True  # the module docstring says why
        began = time.monotonic()
        client = self._client()
        self._build_local_images(client)
        self._remove_leftovers(client)
        # Both start at once and become ready side by side.
        kafka = self._run(self._kafka_image, "kafka", 9092, self.kafka_port, self._kafka_env())
        database = self._run_database(self._timescaledb_image, self.database_port, self._license)
        _wait(kafka, self._kafka_answers, "Kafka")
        _wait(database, lambda: self._database_answers(self.database_url), "TimescaleDB")
        self._check_license(self.database_url, self._license or self._image_license)
        logger.info(
            "containers ready after %.1fs: Kafka %s on %s, TimescaleDB %s on 127.0.0.1:%d",
            time.monotonic() - began,
            self._kafka_image,
            self.kafka_bootstrap_servers,
            self._timescaledb_image,
            self.database_port,
        )

    def stop(self) -> None:
        """Remove the containers with their volumes."""
        while self._containers:
            self._remove(self._containers.pop())

    @contextmanager
    def other_server(self, timescaledb_license: str) -> Iterator[str]:
        """A second TimescaleDB container, of the local image of the build `timescaledb_license`
        names (built by scripts/images.sh if it is missing), removed on the way out; its URL."""
        image = local_images(timescaledb_license)["timescaledb"]
        client = self._client()
        try:
            client.client.images.get(image)
        except ImageNotFound:
            self._images_sh(["timescaledb"], timescaledb_license)
        port = free_port()
        url = self._url(port)
        container = self._run_database(image, port, timescaledb_license)
        try:
            _wait(container, lambda: self._database_answers(url), f"TimescaleDB {image}")
            self._check_license(url, timescaledb_license)
            yield url
        finally:
            self._containers.remove(container)
            self._remove(container)

    @staticmethod
    def _remove(container: DockerContainer) -> None:
        try:
            container.stop()
        except Exception as exc:  # the next session removes what is left
            logger.warning("could not remove container %s: %s", container.image, exc)

    # --- start-up steps --------------------------------------------------------------------------

    def _client(self) -> DockerClient:
        try:
            client = DockerClient()
            client.client.ping()
        except Exception as exc:
            raise StackError(
                f"no Docker API answers at DOCKER_HOST={os.environ.get('DOCKER_HOST', '(unset)')}:"
                f" {exc}; start one (podman: `podman system service --time=0 unix:///PATH`, then"
                " DOCKER_HOST=unix:///PATH) or choose another TICKWIRE_TEST_STACK"
            ) from exc
        return client

    def _build_local_images(self, client: DockerClient) -> None:
        """The local images that are missing, built by scripts/images.sh. Present ones are taken
        as they are: their tags carry the pinned versions, scripts/test-containers.sh and the
        images tier rebuild them when their inputs change, and images.sh waits for any other
        build under way, which here would count against the first test's timeout."""
        missing = []
        for name in self._to_build:
            try:
                client.client.images.get(local_images(self._image_license or TIMESCALE)[name])
            except ImageNotFound:
                missing.append(name)
        if missing:
            # The build chosen here, whatever the machine has installed by the time it runs.
            self._images_sh(missing, self._image_license)

    @staticmethod
    def _images_sh(names: list[str], timescaledb_license: str | None) -> None:
        env = dict(os.environ)
        if timescaledb_license is not None:
            env[LICENSE_VAR] = timescaledb_license
        built = subprocess.run(
            ["bash", "scripts/images.sh", *names],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        if built.returncode != 0:
            raise StackError(
                f"scripts/images.sh {' '.join(names)} failed with code "
                f"{built.returncode}:\n{built.stderr[-3000:]}"
            )

    def _remove_leftovers(self, client: DockerClient) -> None:
        leftovers = client.client.containers.list(all=True, filters={"label": OWNER_LABEL})
        for container in leftovers:
            if _owner_gone(container.labels[OWNER_LABEL]):
                logger.info("removing container %s of a session that ended", container.name)
                container.remove(force=True, v=True)

    def _run(
        self,
        image: str,
        role: str,
        port: int,
        host_port: int,
        env: dict[str, str],
        command: list[str] | None = None,
    ) -> DockerContainer:
        container = DockerContainer(
            image,
            env=env,
            labels={OWNER_LABEL: _owner(os.getpid()), "tickwire.test-stack.role": role},
        )
        if command is not None:
            container.with_command(command)
        # On the loopback interface only: a throwaway broker and database are nobody else's.
        # The address is ours, not testcontainers' guess, which inside a container (/.dockerenv)
        # would be a gateway's.
        ports: dict[str, Any] = container.ports
        ports[f"{port}/tcp"] = ("127.0.0.1", host_port)
        container.start()
        self._containers.append(container)
        return container

    def _run_database(
        self, image: str, host_port: int, timescaledb_license: str | None
    ) -> DockerContainer:
        return self._run(
            image,
            "timescaledb",
            5432,
            host_port,
            {
                "POSTGRES_USER": SUPERUSER,
                "POSTGRES_PASSWORD": self._password,
                "POSTGRES_DB": DATABASE,
            },
            command=["postgres", *self._postgres_options(timescaledb_license)],
        )

    def _kafka_env(self) -> dict[str, str]:
        """LocalKafka's settings, whole: apache/kafka ignores its defaults once one is given (ours
        merges; both map KAFKA_FOO_BAR to foo.bar). The broker's traffic to itself has a listener
        of its own: the clients' one advertises the host's port, which leads nowhere inside the
        container, and the transaction markers a commit writes travel between brokers."""
        return {
            "CLUSTER_ID": secrets.token_urlsafe(16)[:22].replace("-", "A"),
            "KAFKA_NODE_ID": "1",
            "KAFKA_PROCESS_ROLES": "broker,controller",
            "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
            "KAFKA_LISTENERS": "PLAINTEXT://:9092,BROKER://:9094,CONTROLLER://:9093",
            "KAFKA_ADVERTISED_LISTENERS": (
                f"PLAINTEXT://127.0.0.1:{self.kafka_port},BROKER://localhost:9094"
            ),
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": (
                "PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT"
            ),
            "KAFKA_INTER_BROKER_LISTENER_NAME": "BROKER",
            "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
            "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
            "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
            "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
            "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
            "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
            "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
            "KAFKA_NUM_PARTITIONS": "1",
            "KAFKA_HEAP_OPTS": "-Xms256m -Xmx1g",
            "KAFKA_OPTS": "-XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError",
        }

    @staticmethod
    def _postgres_options(timescaledb_license: str | None) -> list[str]:
        # The settings of the local mode's throwaway server (plugin.stack says why).
        settings = server_settings(
            timescaledb_license=timescaledb_license, fast_unsafe=True, background_jobs=False
        )
        return [option for name, value in settings.items() for option in ("-c", f"{name}={value}")]

    def _kafka_answers(self) -> bool:
        if self._admin is None:
            # Quiet: until the broker listens, every attempt would log a refused connection.
            self._admin = AdminClient(
                {"bootstrap.servers": self.kafka_bootstrap_servers, "log_level": 0}
            )
        return len(self._admin.list_topics(timeout=2).brokers) == 1

    @staticmethod
    def _database_answers(url: str) -> bool:
        # The images' first-start work listens on a socket only, so TCP answers once it is done.
        with psycopg.connect(url, connect_timeout=2, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        return True

    @staticmethod
    def _check_license(url: str, expected: str | None) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute("SHOW timescaledb.license").fetchone()
        found = row[0] if row else None
        if expected is not None and found != expected:
            raise StackError(
                f"the TimescaleDB container at {url.rpartition('@')[2]} runs "
                f"timescaledb.license {found!r}, not the expected {expected!r}"
            )
        logger.info("TimescaleDB container runs timescaledb.license=%s", found)


def _wait(container: DockerContainer, ready: Callable[[], bool], what: str) -> None:
    """Poll `ready` until it is true; fail with the container's log when it exits or times out."""
    began = time.monotonic()
    while time.monotonic() - began < READY_TIMEOUT:
        with contextlib.suppress(Exception):  # not up yet
            if ready():
                return
        container.reload()
        if container.status not in ("created", "running"):
            break
        time.sleep(0.5)
    out, err = container.get_logs()
    log = (out + err).decode(errors="replace").splitlines()[-30:]
    state = "is not ready" if container.status in ("created", "running") else "exited"
    raise StackError(
        f"{what} in {container.image} {state} after {time.monotonic() - began:.0f}s; its log "
        "ends:\n" + "\n".join(log)
    )
