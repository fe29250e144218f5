"""The Kafka and TimescaleDB images for machines without a registry: each runs as its own
non-root user on a read-only root filesystem and becomes ready as the compose stack needs it;
TimescaleDB's runs the local stack's build, with compression and continuous aggregates."""

from __future__ import annotations

import os
from typing import Any

import psycopg
import pytest
from confluent_kafka.admin import AdminClient

from tests.images.containers import Images, wait_for
from tickwire_core.localstack._process import free_port, versions
from tickwire_core.localstack.timescaledb import APACHE, TIMESCALE, requested_license
from tickwire_testing.container_stack import image_license

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


def test_timescaledb_accepts_a_connection_and_runs_the_chosen_build(images: Images) -> None:
    # The build the local stack runs, as images.sh chose it: the full one here by default.
    expected = image_license(requested_license(os.environ))
    tag = images.tags["timescaledb"]
    label = '{{index .Config.Labels "tickwire.timescaledb.license"}}'
    assert images.run("image", "inspect", "--format", label, tag).stdout.strip() == expected
    assert tag.endswith("-apache") == (expected == APACHE)
    port = free_port()
    options = ["--read-only", f"--publish=127.0.0.1:{port}:5432"]
    options += ["--env=POSTGRES_USER=tickwire", "--env=POSTGRES_PASSWORD=secret"]
    options += ["--env=POSTGRES_DB=tickwire"]
    url = f"postgresql://tickwire:secret@127.0.0.1:{port}/tickwire"
    with images.container(tag, *options) as container:

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
            conn.execute("SET timezone = 'UTC'")  # days and hours below are UTC's
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            row = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
            ).fetchone()
            assert row == (versions()["TIMESCALEDB_VERSION"],)
            assert conn.execute("SHOW timescaledb.license").fetchone() == (expected,)
            conn.execute(
                "CREATE TABLE ticks (ts timestamptz NOT NULL, instrument text NOT NULL,"
                " price double precision NOT NULL)"
            )
            conn.execute("SELECT create_hypertable('ticks', by_range('ts', INTERVAL '1 day'))")
            # A day of one trade a minute, in one chunk, 100 days old.
            conn.execute(
                "INSERT INTO ticks SELECT now()::date - 100 + make_interval(mins => i),"
                " 'BTC/USD', 100 + i % 7 FROM generate_series(0, 1439) AS i"
            )
            assert conn.execute("SELECT count(*), sum(price) FROM ticks").fetchone() == (
                1440,
                sum(100 + i % 7 for i in range(1440)),
            )
            if expected == TIMESCALE:
                compress_aggregate_and_drop(conn)
            else:
                with pytest.raises(psycopg.errors.FeatureNotSupported, match="apache"):
                    conn.execute("ALTER TABLE ticks SET (timescaledb.compress)")


def compress_aggregate_and_drop(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """What the full build adds: a chunk compressed and read back the same, a continuous
    aggregate refreshed, and a retention policy's job dropping the old chunk."""
    before = conn.execute("SELECT count(*), sum(price), max(ts) FROM ticks").fetchone()
    conn.execute(
        "ALTER TABLE ticks SET (timescaledb.compress,"
        " timescaledb.compress_segmentby = 'instrument', timescaledb.compress_orderby = 'ts')"
    )
    conn.execute("SELECT compress_chunk(chunk) FROM show_chunks('ticks') AS chunk")
    compressed = conn.execute(
        "SELECT count(*) FILTER (WHERE is_compressed), count(*)"
        " FROM timescaledb_information.chunks WHERE hypertable_name = 'ticks'"
    ).fetchone()
    assert compressed == (1, 1)
    assert conn.execute("SELECT count(*), sum(price), max(ts) FROM ticks").fetchone() == before
    sizes = conn.execute(
        "SELECT before_compression_total_bytes, after_compression_total_bytes"
        " FROM chunk_compression_stats('ticks')"
    ).fetchone()
    assert sizes is not None and sizes[1] < sizes[0]
    print(f"timescaledb: a day of ticks compressed from {sizes[0]} to {sizes[1]} bytes")

    conn.execute(
        "CREATE MATERIALIZED VIEW ticks_1h"
        " WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS"
        " SELECT time_bucket('1 hour', ts) AS start_ts, instrument, count(*) AS trades,"
        " max(price) AS high FROM ticks GROUP BY 1, 2 WITH NO DATA"
    )
    assert conn.execute("SELECT count(*) FROM ticks_1h").fetchone() == (0,)
    conn.execute("CALL refresh_continuous_aggregate('ticks_1h', NULL, NULL)")
    rollup = conn.execute("SELECT count(*), sum(trades), max(high) FROM ticks_1h").fetchone()
    assert rollup == (24, 1440, 106)

    job = conn.execute("SELECT add_retention_policy('ticks', INTERVAL '90 days')").fetchone()
    assert job is not None
    conn.execute("CALL run_job(%s)", job)
    assert conn.execute("SELECT count(*) FROM show_chunks('ticks')").fetchone() == (0,)
    # The rollup outlives the ticks it was made of.
    assert conn.execute("SELECT sum(trades) FROM ticks_1h").fetchone() == (1440,)
