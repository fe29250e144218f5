"""The exceptions tickwire raises, in one place.

TickwireError
 +-- ConfigError          a missing or invalid setting; the message names the setting
 +-- StackError           a local Kafka/PostgreSQL that could not be installed, started or stopped
 +-- SerializationError   Avro encoding or decoding failed (the cause is kept as __cause__)
 |    +-- SchemaError     a schema file is missing or does not parse
 +-- DeliveryError        Kafka refused or failed to deliver produced records
 |    +-- ProducerStuck   a transactional call outlived its timeout: the process must restart
 +-- RejectedRecord       a record that a handler cannot accept; carries a reason code for the
                          dead-letter topic
"""

from __future__ import annotations


class TickwireError(Exception):
    """Base of every error tickwire raises on purpose."""


class ConfigError(TickwireError):
    pass


class StackError(TickwireError):
    pass


class SerializationError(TickwireError):
    pass


class SchemaError(SerializationError):
    pass


class DeliveryError(TickwireError):
    pass


class ProducerStuck(DeliveryError):
    """A transactional producer call did not return within its timeout and a grace period. The
    producer cannot be used again (librdkafka serializes transactional calls); the process exits,
    and its successor, with the same transactional.id, fences the open transaction and aborts it."""


class RejectedRecord(TickwireError):
    """Raised by a pure handler for input it cannot accept; the run loop dead-letters it.
    `instrument` and `event_ts` say what the refused record was about, where it was read that
    far (filled in by whoever knows them; the dead letter carries them)."""

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        instrument: str | None = None,
        event_ts: int | None = None,
    ) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.instrument = instrument
        self.event_ts = event_ts
