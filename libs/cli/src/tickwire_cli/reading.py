"""Reading a tickwire topic the way kcat does: partitions assigned explicitly (no consumer group,
no committed offsets), committed data only, from earliest, latest or a time, to the end or on."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from tickwire_cli.context import Env
from tickwire_cli.errors import CliError, UsageError
from tickwire_core.topics import RAW_TICKS, TICKS, Topic, load_topics

_ALIASES = {RAW_TICKS: "raw", TICKS: "ticks"}
_POLL_S = 0.5  # how soon a stop (Ctrl-C) is noticed while nothing arrives


def short_name(topic: Topic) -> str:
    """raw, ticks, bars, anomalies, signals, deadletter, status: what a person types."""
    return _ALIASES.get(topic.name, topic.name.rsplit(".", 1)[-1])


@dataclass(frozen=True)
class ChosenTopic:
    topic: Topic  # its row in the topic table
    name: str  # its name on the broker, with the prefix


def resolve_topic(env: Env, given: str, table: list[Topic] | None = None) -> ChosenTopic:
    """A short name, a table name or a prefixed name -> the topic; anything else is a usage
    error naming the valid ones."""
    table = table if table is not None else load_topics()
    for topic in table:
        if given in (short_name(topic), topic.name, env.topic(topic.name)):
            return ChosenTopic(topic, env.topic(topic.name))
    valid = ", ".join(short_name(t) for t in table)
    raise UsageError(
        f"unknown topic {given!r}; valid: {valid} (or their full names)",
        hint="topics are listed in schemas/topics.toml",
    )


def topic_by_broker_name(env: Env, name: str, table: list[Topic] | None = None) -> Topic | None:
    """The table row of a topic named as a dead letter names its source (with the prefix)."""
    for topic in table if table is not None else load_topics():
        if name in (env.topic(topic.name), topic.name):
            return topic
    return None


@dataclass(frozen=True)
class Start:
    """Where reading starts: `earliest`, `latest` or the first record at or after `at`."""

    kind: str
    at: datetime | None = None


def parse_time(text: str, option: str) -> datetime:
    """An ISO 8601 time; without a zone it is UTC."""
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not an ISO time", hint="e.g. 2026-03-01T12:00:00Z"
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def parse_start(text: str) -> Start:
    if text in ("earliest", "latest"):
        return Start(text)
    try:
        return Start("time", parse_time(text, "--from"))
    except UsageError:
        raise UsageError(
            f"--from {text!r} is neither earliest, latest nor an ISO time",
            hint="e.g. --from 2026-03-01T12:00:00Z",
        ) from None


class TopicReader:
    """Messages of one topic in arrival order. Without `follow` it ends at the end offsets each
    partition had when reading began; with it, it goes on until `stop` is set."""

    def __init__(
        self, env: Env, topic: str, start: Start, *, follow: bool, stop: threading.Event
    ) -> None:
        self.env = env
        self.topic = topic
        self.start = start
        self.follow = follow
        self.stop = stop

    def _consumer(self) -> Consumer:
        # A group id is required by the client, but nothing joins it: partitions are assigned,
        # and neither automatic nor manual commits happen, so no offsets are ever stored.
        return Consumer(
            self.env.kafka_config(
                **{
                    "group.id": f"tickwire-cli-{uuid.uuid4().hex}",
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                    "isolation.level": "read_committed",
                    "enable.partition.eof": True,
                    "auto.offset.reset": "earliest",
                }
            )
        )

    def _partitions(self, consumer: Consumer) -> list[int]:
        # All topics, not this one by name: asking for one name can create it on brokers that
        # auto-create topics.
        meta = consumer.list_topics(timeout=10).topics.get(self.topic)
        if meta is None or meta.error is not None or not meta.partitions:
            raise CliError(
                f"topic {self.topic} does not exist on Kafka at {self.env.bootstrap_servers}",
                hint="create the topics with `tickwire topics create`, or check --topic-prefix",
            )
        return sorted(meta.partitions)

    def _positions(self, consumer: Consumer, partitions: list[int]) -> dict[int, tuple[int, int]]:
        """partition -> (start offset, end offset now)."""
        bounds = {
            p: consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=10)
            for p in partitions
        }
        if self.start.kind == "earliest":
            return {p: (low, high) for p, (low, high) in bounds.items()}
        if self.start.kind == "latest":
            return {p: (high, high) for p, (_low, high) in bounds.items()}
        assert self.start.at is not None
        at_ms = int(self.start.at.timestamp() * 1000)
        found = consumer.offsets_for_times(
            [TopicPartition(self.topic, p, at_ms) for p in partitions], timeout=10
        )
        # -1: nothing at or after that time yet, so the partition starts at its end.
        return {
            tp.partition: (
                tp.offset if tp.offset >= 0 else bounds[tp.partition][1],
                bounds[tp.partition][1],
            )
            for tp in found
        }

    def __iter__(self) -> Iterator[Any | None]:
        """Messages; None after a poll that brought nothing (a pause, for a table to flush)."""
        consumer = self._consumer()
        try:
            try:
                partitions = self._partitions(consumer)
                positions = self._positions(consumer, partitions)
            except KafkaException as exc:
                raise CliError(
                    f"cannot read {self.topic} from Kafka at {self.env.bootstrap_servers}: "
                    f"{exc.args[0].str()}"
                ) from None
            consumer.assign(
                [
                    TopicPartition(self.topic, p, start if start >= 0 else OFFSET_BEGINNING)
                    for p, (start, _end) in positions.items()
                ]
            )
            ends = {p: end for p, (_start, end) in positions.items()}
            pending = {p for p, (start, end) in positions.items() if self.follow or start < end}
            while (self.follow or pending) and not self.stop.is_set():
                messages = consumer.consume(500, _POLL_S)
                if not messages:
                    yield None
                for msg in messages:
                    error = msg.error()
                    partition, offset = msg.partition(), msg.offset()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            pending.discard(partition)
                            continue
                        raise CliError(f"reading {self.topic}[{partition}]: {error.str()}")
                    assert partition is not None and offset is not None  # set on every record
                    if not self.follow:
                        if offset >= ends[partition]:  # arrived after reading began
                            pending.discard(partition)
                            continue
                        if offset >= ends[partition] - 1:
                            pending.discard(partition)
                    yield msg
        finally:
            consumer.close()
