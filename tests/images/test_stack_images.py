"""The Kafka and TimescaleDB images for machines without a registry: each runs as its own
non-root user on a read-only root filesystem and becomes ready as the compose stack needs it."""

from __future__ import annotations

import psycopg
import pytest
from confluent_kafka.admin import AdminClient

from tests.images.containers import Images, wait_for
from tickwire_core.localstack._process import free_port, versions

pytestmark = [pytest.mark.images, pytest.mark.timeout(3600)]


def user_of(images: Images, container: str) -> str:
    return images.run("exec", container, "id", "-un").stdout.strip()


def test_kafka_answers_a_metadata_request(images: Images) -> None:
    port = free_port()
    options = ["--read-only", f"--publish=127.0.0.1:{port}:9092"]
    options.append(f"--env=KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://127.0.0.1:{port}")
    with images.container(images.tags["kafka"], *options) as container:
        # Quiet: until the broker listens, every attempt would log a refused connection.
        admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}", "log_level": 0})

        def answers() -> bool:
            try:
                return len(admin.list_topics(timeout=2).brokers) == 1
            except Exception:  # not up yet: KafkaException or a timeout
                return False

        took = wait_for(answers, "Kafka's metadata", 180)
        print(f"kafka: metadata after {took:.1f} s")
        assert user_of(images, container) == "kafka"
        # The compose file's health check, as it runs in the container.
        probe = "/opt/kafka/bin/kafka-broker-api-versions.sh"
        images.run("exec", container, probe, "--bootstrap-server", "localhost:9092")
        version = images.run("exec", container, "ls", "/opt/kafka/libs").stdout
        assert f"kafka_2.13-{versions()['KAFKA_VERSION']}.jar" in version.split()


def test_timescaledb_accepts_a_connection_with_the_extension_loadable(images: Images) -> None:
    port = free_port()
    options = ["--read-only", f"--publish=127.0.0.1:{port}:5432"]
    options += ["--env=POSTGRES_USER=tickwire", "--env=POSTGRES_PASSWORD=secret"]
    options += ["--env=POSTGRES_DB=tickwire"]
    url = f"postgresql://tickwire:secret@127.0.0.1:{port}/tickwire"
    with images.container(images.tags["timescaledb"], *options) as container:

        def accepts() -> bool:
            try:
                psycopg.connect(url, connect_timeout=2).close()
            except psycopg.OperationalError:
                return False
            return True

        took = wait_for(accepts, "TimescaleDB's connection", 180)
        print(f"timescaledb: connection after {took:.1f} s")
        assert user_of(images, container) == "postgres"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            row = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
            ).fetchone()
            assert row == (versions()["TIMESCALEDB_VERSION"],)
            conn.execute("CREATE TABLE ticks (ts timestamptz NOT NULL, price double precision)")
            conn.execute("SELECT create_hypertable('ticks', by_range('ts'))")
            conn.execute("INSERT INTO ticks VALUES (now(), 1.5)")
            assert conn.execute("SELECT count(*) FROM ticks").fetchone() == (1,)
