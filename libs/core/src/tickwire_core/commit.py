"""How a run loop makes a batch durable: flush then commit offsets (at-least-once; writers
downstream are idempotent), or one Kafka transaction holding the batch's output and its input
offsets (exactly-once: consumers that read committed never see a batch twice or half)."""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from confluent_kafka import Consumer, KafkaException, TopicPartition

from tickwire_core.errors import DeliveryError, ProducerStuck
from tickwire_core.publisher import Publisher
from tickwire_core.waiting import StoppedWhileWaiting

logger = logging.getLogger(__name__)

# How long past its own timeout a transactional call may block before the producer is given up.
# librdkafka's send_offsets_to_transaction can wait for ever when the group coordinator moved (a
# broker restart): its timeout is not applied to the coordinator lookup.
STUCK_GRACE_S = 10.0


class Committer(Protocol):
    def start(self) -> None: ...

    def begin(self) -> None: ...

    def commit(self, consumer: Consumer, offsets: list[TopicPartition]) -> None:
        """Make the batch's output durable, then its offsets; raise if either failed."""
        ...

    def abort(self) -> None:
        """Called after a failed batch, before it is rewound and retried."""
        ...


class OffsetCommitter:
    def __init__(self, publisher: Publisher, stop: threading.Event) -> None:
        self.publisher = publisher
        self.stop = stop

    def start(self) -> None:
        pass

    def begin(self) -> None:
        pass

    def commit(self, consumer: Consumer, offsets: list[TopicPartition]) -> None:
        self.publisher.flush(stop=self.stop)
        if offsets:
            consumer.commit(offsets=offsets, asynchronous=False)

    def abort(self) -> None:
        pass  # what was produced stays; the retry produces it again (idempotent writers)


class TransactionalCommitter:
    """Each batch is one transaction: output, dead letters and the input offsets commit together or
    not at all. The producer needs a transactional.id that is stable across restarts of the same
    instance, so a restarted instance fences its predecessor and aborts what it left open."""

    def __init__(
        self,
        publisher: Publisher,
        stop: threading.Event | None = None,
        timeout_s: float = 30.0,
        grace_s: float = STUCK_GRACE_S,
    ) -> None:
        self.publisher = publisher
        self.producer: Any = publisher.producer
        self.stop = stop
        self._timeout_s = timeout_s
        self._grace_s = grace_s
        self._open = False
        self._stuck: ProducerStuck | None = None

    @property
    def timeout_s(self) -> float:
        # Once told to stop, a broker that does not answer must not hold the shutdown: what is
        # not committed is aborted by the coordinator and processed again after the restart.
        return (
            min(self._timeout_s, 5.0)
            if self.stop is not None and self.stop.is_set()
            else self._timeout_s
        )

    def start(self) -> None:
        attempt = 0
        while True:
            try:
                self.producer.init_transactions(self.timeout_s)
                return
            except KafkaException as exc:
                # Retriable (a timeout while a fresh or restarted broker's transaction coordinator
                # is still loading): librdkafka says to call it again. Anything else is fatal.
                attempt += 1
                if not exc.args[0].retriable():
                    raise
                if self._stopping():
                    raise StoppedWhileWaiting("the transaction coordinator") from exc
                logger.warning("init_transactions attempt %d: %s; retrying", attempt, exc)

    def begin(self) -> None:
        self.producer.begin_transaction()
        self._open = True

    def commit(self, consumer: Consumer, offsets: list[TopicPartition]) -> None:
        if offsets:
            self._bounded(
                "send_offsets_to_transaction",
                self.producer.send_offsets_to_transaction,
                offsets,
                consumer.consumer_group_metadata(),
                self.timeout_s,
            )
        for attempt in range(1, 4):
            try:
                self._bounded(
                    "commit_transaction", self.producer.commit_transaction, self.timeout_s
                )
                break
            except KafkaException as exc:
                # Retriable (e.g. a timeout): the outcome is unknown, and only committing again
                # resolves it. Anything else goes to the caller, which aborts and retries the batch.
                if not exc.args[0].retriable() or attempt == 3 or self._stopping():
                    raise
                logger.warning("commit_transaction attempt %d: %s; retrying", attempt, exc)
        self._open = False
        self.publisher.poll()  # serve delivery reports, so failures are counted
        failures = self.publisher.take_failures()
        if failures:  # cannot happen after a successful commit; kept loud in case it does
            raise DeliveryError(f"{len(failures)} records failed delivery; first: {failures[0]}")

    def _bounded(self, call: str, fn: Any, *args: Any) -> None:
        """fn(*args) on a thread of its own, waited for at most its timeout plus the grace: past
        that the producer is given up (ProducerStuck), since the call may never return."""
        if self._stuck is not None:
            raise self._stuck
        done, failure = threading.Event(), []

        def run() -> None:
            try:
                fn(*args)
            except BaseException as exc:  # handed to the caller's thread below
                failure.append(exc)
            finally:
                done.set()

        threading.Thread(target=run, name=f"txn-{call}", daemon=True).start()
        if not done.wait(self.timeout_s + self._grace_s):
            self._stuck = ProducerStuck(
                f"{call} has not returned after {self.timeout_s + self._grace_s:.0f}s (its "
                "timeout is not applied everywhere, e.g. while the group coordinator moves); "
                "exiting so that a restart fences the open transaction"
            )
            raise self._stuck
        if failure:
            raise failure[0]

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def abort(self) -> None:
        if self._stuck is not None:
            raise self._stuck  # nothing can be aborted while the stuck call holds the producer
        if not self._open:
            return
        try:
            self._bounded("abort_transaction", self.producer.abort_transaction, self.timeout_s)
        except KafkaException as exc:
            error = exc.args[0]
            if error.fatal():
                raise  # fenced by a newer instance, or the producer is broken: exit and restart
            logger.warning("abort_transaction failed, retrying with the batch: %s", error)
            return
        self._open = False
        self.publisher.take_failures()  # the aborted records' delivery errors are moot
