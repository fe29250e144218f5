"""Fakes of the Kafka ports for unit tests of pure logic (never for integration tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Message:
    _topic: str
    _key: bytes | None
    _value: bytes | None
    _offset: int = 0

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def topic(self) -> str:
        return self._topic

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value


@dataclass
class FakeProducer:
    """Records what was produced; `fail_with` makes every delivery report that error."""

    sent: list[tuple[str, bytes | None, bytes | None]] = field(default_factory=list)
    fail_with: str | None = None
    queue_limit: int | None = None
    _callbacks: list[tuple[Any, _Message]] = field(default_factory=list)

    def produce(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        on_delivery: Any = None,
    ) -> None:
        if self.queue_limit is not None and len(self._callbacks) >= self.queue_limit:
            raise BufferError("queue full")
        self.sent.append((topic, key, value))
        # One partition, offsets in produce order: what a delivery report would say.
        self._callbacks.append((on_delivery, _Message(topic, key, value, len(self.sent) - 1)))

    def poll(self, timeout: float = 0) -> int:
        done, self._callbacks = self._callbacks, []
        for callback, msg in done:
            if callback is not None:
                callback(self.fail_with, msg)
        return len(done)

    def flush(self, timeout: float = 0) -> int:
        self.poll()
        return 0
