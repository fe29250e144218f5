"""The topic table (schemas/topics.toml) as data, and creating those topics on a broker."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from tickwire_core.errors import ConfigError
from tickwire_core.serde import default_schema_dir

logger = logging.getLogger(__name__)

RAW_TICKS = "tickwire.ticks.raw"
TICKS = "tickwire.ticks.normalized"
BARS = "tickwire.bars"
ANOMALIES = "tickwire.anomalies"
SIGNALS = "tickwire.signals"
SHORT_VOLUME = "tickwire.short_volume"
SHORT_INTEREST = "tickwire.short_interest"
DEAD_LETTER = "tickwire.deadletter"
STATUS = "tickwire.status"
DEDUP_TALLIES = "tickwire.dedup_tallies"


@dataclass(frozen=True)
class Topic:
    name: str
    key: str
    value_schema: str
    partitions: int
    cleanup_policy: str
    retention_ms: int
    producers: tuple[str, ...]
    consumers: tuple[str, ...]

    def config(self) -> dict[str, str]:
        return {"cleanup.policy": self.cleanup_policy, "retention.ms": str(self.retention_ms)}


def load_topics(path: Path | None = None) -> list[Topic]:
    path = path or default_schema_dir() / "topics.toml"
    table = tomllib.loads(path.read_text())
    return [
        Topic(
            name=t["name"],
            key=t["key"],
            value_schema=t["value_schema"],
            partitions=int(t["partitions"]),
            cleanup_policy=t["cleanup_policy"],
            retention_ms=int(t["retention_ms"]),
            producers=tuple(t["producers"]),
            consumers=tuple(t["consumers"]),
        )
        for t in table["topic"]
    ]


def tick_key(provider: str, instrument: str) -> bytes:
    """Kafka key of every tick topic: one provider's instrument always lands on one partition."""
    return f"{provider}|{instrument}".encode()


def create_topics(
    bootstrap_servers: str,
    topics: list[Topic] | None = None,
    *,
    replication_factor: int = 1,
    prefix: str = "",
    client_config: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> list[str]:
    """Create the missing topics of the table; existing ones are left as they are. Returns the
    names created. A topic that exists with another partition count is an error, not a surprise."""
    topics = [
        replace(t, name=prefix + t.name) for t in (topics if topics is not None else load_topics())
    ]
    admin = AdminClient({"bootstrap.servers": bootstrap_servers, **(client_config or {})})
    existing = admin.list_topics(timeout=timeout).topics
    for topic in topics:
        have = existing.get(topic.name)
        if have is not None and len(have.partitions) != topic.partitions:
            raise ConfigError(
                f"topic {topic.name} has {len(have.partitions)} partitions, the topic table says "
                f"{topic.partitions}"
            )
    missing = [t for t in topics if t.name not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(t.name, t.partitions, replication_factor, config=t.config()) for t in missing],
        operation_timeout=timeout,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":  # another replica raced us: fine
                raise
    logger.info("created topics %s", ",".join(sorted(created)))
    return created
