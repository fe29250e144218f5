"""Where the command finds the broker and the database: built once from the global options and the
environment (KAFKA_BOOTSTRAP_SERVERS, KAFKA_CLIENT_CONFIG, DATABASE_URL, TICKWIRE_TOPIC_PREFIX),
then passed to each command. Unnamed, they are the local run's (`tickwire run`: TICKWIRE_STATE_DIR,
TICKWIRE_KAFKA_PORT, TICKWIRE_PG_PORT and the password its PostgreSQL keeps in the state dir).
Connecting is checked here, so that an unreachable broker or database is one line naming the
address, not a traceback or a hang."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import psycopg
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from psycopg.conninfo import conninfo_to_dict

from tickwire_cli.errors import CliError, UsageError
from tickwire_core.dsn import database_display
from tickwire_core.errors import ConfigError
from tickwire_core.kafka_security import security_problems
from tickwire_core.localstack.config import LocalRun

_LIBRDKAFKA = logging.getLogger("tickwire.librdkafka")


@dataclass(frozen=True)
class Env:
    bootstrap_servers: str
    database_url: str
    topic_prefix: str = ""
    # Out of the repr: it may hold sasl.password.
    kafka_client_config: dict[str, str] = field(default_factory=dict, repr=False)
    local: LocalRun = field(default_factory=lambda: LocalRun.from_environ({}))
    # Whether the broker / database were named (option or environment) rather than the local run's.
    kafka_named: bool = True
    database_named: bool = True

    @classmethod
    def build(
        cls,
        bootstrap_servers: str | None = None,
        database_url: str | None = None,
        topic_prefix: str | None = None,
    ) -> Env:
        raw_config = os.environ.get("KAFKA_CLIENT_CONFIG") or "{}"
        try:
            client_config = json.loads(raw_config)
        except ValueError as exc:
            raise UsageError(f"KAFKA_CLIENT_CONFIG is not a JSON object: {exc}") from None
        if not isinstance(client_config, dict):
            raise UsageError("KAFKA_CLIENT_CONFIG is not a JSON object")
        client_config = {str(k): str(v) for k, v in client_config.items()}
        problems = security_problems(client_config)
        if problems:
            raise UsageError(f"KAFKA_CLIENT_CONFIG: {'; '.join(problems)}")
        try:
            local = LocalRun.from_environ(os.environ)
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
        bootstrap_servers = bootstrap_servers or os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        database_url = database_url or os.environ.get("DATABASE_URL")
        if database_url:
            try:
                conninfo_to_dict(database_url)
            except psycopg.ProgrammingError as exc:
                raise UsageError(
                    f"DATABASE_URL is not a database URL: {str(exc).strip()}"
                ) from None
        return cls(
            bootstrap_servers=bootstrap_servers or local.kafka_bootstrap_servers,
            database_url=database_url or local.database_url,
            topic_prefix=(
                topic_prefix
                if topic_prefix is not None
                else os.environ.get("TICKWIRE_TOPIC_PREFIX", "")
            ),
            kafka_client_config=client_config,
            local=local,
            kafka_named=bool(bootstrap_servers),
            database_named=bool(database_url),
        )

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def kafka_config(self, **extra: Any) -> dict[str, Any]:
        # librdkafka's own lines (a refused connection, retried every 50 ms) would bury the one
        # line this command prints about it; they go to the log, at critical level unless DEBUG.
        quiet = logging.getLogger().getEffectiveLevel() > logging.DEBUG
        return {
            **self.kafka_client_config,
            "bootstrap.servers": self.bootstrap_servers,
            "logger": _LIBRDKAFKA,
            "log_level": 2 if quiet else 7,
            **extra,
        }

    def check_kafka(self, timeout_s: float = 10.0) -> AdminClient:
        """An admin client on a broker that answered, or a CliError naming the address."""
        admin = AdminClient(self.kafka_config())
        try:
            admin.list_topics(timeout=timeout_s)
        except KafkaException as exc:
            raise CliError(
                f"cannot reach Kafka at {self.bootstrap_servers}: {exc.args[0].str()}",
                hint="is it running (`tickwire status`)? set KAFKA_BOOTSTRAP_SERVERS "
                "or --bootstrap-servers",
            ) from None
        return admin

    def database_display(self) -> str:
        return database_display(self.database_url)

    def connect_db(self, connect_timeout: int = 10, **kwargs: Any) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self.database_url, connect_timeout=connect_timeout, **kwargs)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CliError(
                f"cannot reach the database at {self.database_display()}: {first}",
                hint="is it running (`tickwire status`)? set DATABASE_URL or --database-url",
            ) from None
