"""Hanging transactions on the local broker: looked for after each restart, and named.

A hanging transaction is open on a partition while its coordinator no longer has it open there:
nothing will write its marker, its partition's last stable offset stops at its first record, and
every read_committed consumer (the sink, signals) stops with it. A restart of the one broker used
to leave such transactions (kafka_fence.py has how, and the restart that prevents it).

Kafka's check is `kafka-transactions.sh find-hanging` (KIP-664): open for longer than the broker's
transaction.max.timeout.ms, and no longer open at its coordinator. The watch runs it after each
restart of a broker that had data, once a transaction left by the stop is old enough to tell, and
logs each one it finds as an error. It does not abort them: the producer's next transaction closes
its own earlier output and offsets wherever it writes too, so the same transaction may have been
committed on __consumer_offsets (its input is never read again) while it hangs on one partition
of its output. Aborting it there loses those records (on a copy of a chaos run's broker of
2026-12-07 the abort cost one tick), and Kafka's admin API cannot commit it.
`kafka-transactions.sh abort` is the remedy once it is known that the input will be read again."""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tickwire_core.errors import StackError

logger = logging.getLogger(__name__)

# The broker's transaction.max.timeout.ms on the local stack (server.properties): find-hanging
# calls a transaction hanging only once it is this old. A producer's transaction.timeout.ms may
# not exceed it (normalize's default is 60 s); Kafka's own default is 15 minutes.
MAX_TRANSACTION_TIMEOUT_MS = 60_000
# After a restart: once a transaction left open by the stop is older than the maximum, and again
# in case the coordinator took longer to load.
CHECK_AFTER_S = (MAX_TRANSACTION_TIMEOUT_MS / 1000 + 10, 2 * MAX_TRANSACTION_TIMEOUT_MS / 1000 + 10)
_TOOL = "org.apache.kafka.tools.TransactionsCommand"
_TOOL_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class HangingTransaction:
    topic: str
    partition: int
    producer_id: int
    producer_epoch: int
    start_offset: int
    last_timestamp_ms: int

    def __str__(self) -> str:
        return (
            f"{self.topic}-{self.partition} from offset {self.start_offset} "
            f"(producer {self.producer_id}, epoch {self.producer_epoch})"
        )


def parse_find_hanging(output: str) -> list[HangingTransaction]:
    """The rows of find-hanging's table: a header line of tab-separated column names (Topic,
    Partition, ProducerId, ProducerEpoch, CoordinatorEpoch, StartOffset, LastTimestamp, ...), then
    one line per hanging transaction, each cell padded with spaces."""
    lines = [line for line in output.splitlines() if line.strip()]
    header_at = next(
        (i for i, line in enumerate(lines) if line.split("\t")[0].strip() == "Topic"), None
    )
    if header_at is None:
        raise ValueError(f"find-hanging printed no table:\n{output[-2000:]}")
    names = [cell.strip() for cell in lines[header_at].split("\t")]
    found = []
    for line in lines[header_at + 1 :]:
        row = dict(zip(names, (cell.strip() for cell in line.split("\t")), strict=False))
        try:
            found.append(
                HangingTransaction(
                    topic=row["Topic"],
                    partition=int(row["Partition"]),
                    producer_id=int(row["ProducerId"]),
                    producer_epoch=int(row["ProducerEpoch"]),
                    start_offset=int(row["StartOffset"]),
                    last_timestamp_ms=int(row["LastTimestamp"]),
                )
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"unexpected find-hanging row {line!r}: {exc}") from None
    return found


class HangingTransactionWatch:
    """One thread: at each of `check_after_s` after start(), find the broker's hanging
    transactions, log each and hand it to `on_found`; stop() ends it (and a check in flight)."""

    def __init__(
        self,
        bootstrap_servers: str,
        classpath: Callable[[], str],
        log_path: Path,
        on_found: Callable[[HangingTransaction], None],
        check_after_s: Sequence[float] = CHECK_AFTER_S,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._classpath = classpath
        self._log_path = log_path
        self._on_found = on_found
        self._check_after_s = tuple(check_after_s)
        self._stopping = threading.Event()
        self._running: subprocess.Popen[bytes] | None = None  # the check in flight
        self._thread = threading.Thread(target=self._run, name="hanging-transactions", daemon=True)

    def start(self) -> HangingTransactionWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        running = self._running
        if running is not None and running.poll() is None:
            running.kill()
        if self._thread.is_alive():
            self._thread.join(timeout=_TOOL_TIMEOUT_S)

    def check(self) -> list[HangingTransaction]:
        """The broker's hanging transactions now, each logged and handed to `on_found`."""
        found = parse_find_hanging(self._find_hanging())
        for txn in found:
            logger.error(
                "hanging transaction on %s: read_committed consumers of that partition stop at "
                "its offset until it is aborted (kafka-transactions.sh abort), which is right only "
                "if its input will be read again; see tickwire_core/localstack/hanging.py",
                txn,
            )
            self._on_found(txn)
        return found

    def _run(self) -> None:
        started = time.monotonic()
        for after in self._check_after_s:
            if self._stopping.wait(max(0.0, started + after - time.monotonic())):
                return
            try:
                self.check()
            except (OSError, RuntimeError, ValueError, StackError) as exc:
                if self._stopping.is_set():
                    return
                logger.error("could not check the broker for hanging transactions: %s", exc)

    def _find_hanging(self) -> str:
        command = [
            *("java", "-Xmx256m", "-XX:+UseSerialGC", "-cp", self._classpath(), _TOOL),
            *("--bootstrap-server", self._bootstrap, "find-hanging", "--broker-id", "1"),
        ]
        with open(self._log_path, "ab") as log:
            log.write(b"--- find-hanging\n")
            log.flush()
            tool = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL
            )
            self._running = tool
            if self._stopping.is_set():  # stop() came between the check and the spawn
                tool.kill()
            try:
                output, _ = tool.communicate(timeout=_TOOL_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                tool.kill()
                tool.communicate()
                raise RuntimeError(
                    f"find-hanging did not finish within {_TOOL_TIMEOUT_S:.0f}s"
                ) from None
            log.write(output)
        if tool.returncode != 0:
            raise RuntimeError(f"find-hanging exited with {tool.returncode}; see {self._log_path}")
        return output.decode(errors="replace")
