"""A real single-node KRaft Apache Kafka broker for local runs and tests, started from the Maven
Central jars that scripts/install-kafka.sh caches; no Docker needed."""

from __future__ import annotations

import base64
import logging
import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

from confluent_kafka.admin import AdminClient

from tickwire_core.errors import StackError
from tickwire_core.localstack import _process
from tickwire_core.localstack.hanging import (
    MAX_TRANSACTION_TIMEOUT_MS,
    HangingTransaction,
    HangingTransactionWatch,
)
from tickwire_core.localstack.kafka_fence import fence_old_incarnation, unclean_stop
from tickwire_core.localstack.kafka_listeners import SecureListeners

logger = logging.getLogger(__name__)

_INSTALL_SCRIPT = _process.REPO_ROOT / "scripts" / "install-kafka.sh"
# A cold install downloads ~45 MB of jars; a warm one returns at once.
_INSTALL_TIMEOUT = 900.0

# Sized for small shared machines (2 cores, beside PostgreSQL and several services):
# - a modest heap: an idle test broker keeps ~350 MB resident, 1 GB leaves room for bursts;
# - SerialGC instead of the default G1: one GC thread and no concurrent marking, so less CPU
#   taken from the neighbours (start-up costs ~3.2 s of CPU instead of ~3.8 s; wall time is the
#   same) and a smaller footprint; at <= 1 GB of heap its pauses stay short. Full JIT stays on
#   (no TieredStopAtLevel=1), since tests push real record volumes through the broker;
# - ExitOnOutOfMemoryError: a broker that ran out of heap dies visibly instead of limping.
_JVM_FLAGS = (
    "-Xms256m",
    "-Xmx1g",
    "-XX:+UseSerialGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)


class LocalKafka:
    """One single-node KRaft broker in `state_dir` (its log.dirs, server.properties, kafka.log,
    kafka.pid); with `secure`, TLS and SASL listeners too, beside the plaintext one."""

    def __init__(
        self,
        state_dir: Path,
        port: int | None = None,
        controller_port: int | None = None,
        secure: SecureListeners | None = None,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.port = port if port is not None else _process.free_port()
        self.controller_port = (
            controller_port if controller_port is not None else _process.free_port()
        )
        if self.controller_port == self.port:
            raise StackError(f"Kafka broker port and controller port are both {self.port}")
        self.secure = secure
        self._properties = self.state_dir / "server.properties"
        self._data_dir = self.state_dir / "data"
        # The properties path is unique per state_dir, so a pid recorded here is only ever taken
        # for this directory's broker, never for another broker or a reused pid.
        self._pid_file = _process.PidFile(
            self.state_dir / "kafka.pid", marker=f"kafka.Kafka {self._properties}"
        )
        self._process: subprocess.Popen[bytes] | None = None
        self._watch: HangingTransactionWatch | None = None
        # Every hanging transaction the watch found, across restarts of this broker.
        self.hanging: list[HangingTransaction] = []

    @property
    def running_pid(self) -> int | None:
        """Pid of this state dir's server if one runs (started by us or by an earlier run)."""
        return self._pid_file.live_pid()

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "kafka.log"

    def start(self, timeout: float = 90.0) -> None:
        """Install if needed, format storage on first use, start the broker and wait until it
        answers a metadata request."""
        started = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.stop()  # a broker left running by this object or by a crashed earlier run
        ports = [("port", self.port), ("controller port", self.controller_port)]
        if self.secure is not None:
            ports += [(f"{name} port", port) for name, port in self.secure.listeners().items()]
        for what, port in ports:
            if _process.port_open(port):
                raise StackError(
                    f"Kafka broker {what} {port} is already in use by another process; "
                    "pick another port or stop that process"
                )
        if shutil.which("java") is None:
            raise StackError("Kafka broker needs Java 17 or newer ('java' is not on PATH)")

        home = self._install()
        self._write_properties()
        log4j_flag = f"-Dlog4j2.configurationFile={home / 'log4j2.properties'}"
        classpath = str(home / "libs" / "*")
        restarted = (self._data_dir / "meta.properties").exists()
        if not restarted:
            self._format_storage(log4j_flag, classpath)
        elif unclean_stop(self._data_dir):
            java = ["java", *_JVM_FLAGS, log4j_flag, "-cp", classpath]
            fence_old_incarnation(
                self.state_dir, self._data_dir, self.controller_port, java, self.log_path
            )

        with open(self.log_path, "ab") as log:
            log.write(f"--- starting Kafka broker on {self.bootstrap_servers}\n".encode())
        self._process = _process.spawn(
            [
                "java",
                *_JVM_FLAGS,
                log4j_flag,
                "-cp",
                classpath,
                "kafka.Kafka",
                str(self._properties),
            ],
            self.log_path,
            cwd=self.state_dir,
            death_signal=signal.SIGTERM,
        )
        self._pid_file.write(self._process.pid)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        if restarted:  # a new broker has no transactions to leave hanging
            self._watch = self._hanging_watch().start()
        logger.info(
            "Kafka broker ready on %s after %.1fs (log %s)",
            self.bootstrap_servers,
            time.monotonic() - started,
            self.log_path,
        )

    def hanging_transactions(self) -> list[HangingTransaction]:
        """The broker's hanging transactions now (localstack/hanging.py); after a restart the
        watch looks by itself, once they are old enough to tell. Each is kept in `hanging`."""
        return self._hanging_watch().check()

    def _hanging_watch(self) -> HangingTransactionWatch:
        return HangingTransactionWatch(
            self.bootstrap_servers,
            lambda: str(self._install("tools") / "libs" / "*"),
            self.state_dir / "transactions.log",
            self.hanging.append,
        )

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM for a controlled shutdown, SIGKILL if it takes longer than `timeout`."""
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        if self._pid_file.stop(signal.SIGTERM, timeout=timeout):
            logger.info("stopped the Kafka broker of %s", self.state_dir)
        if self._process is not None:
            if self._process.poll() is None:  # its pid file was removed under us
                _process.terminate(self._process.pid, "kafka.Kafka", timeout=timeout)
            # Collect the exit status so the Popen does not outlive the broker as a zombie.
            self._process.wait()
            self._process = None

    def _install(self, part: str = "broker") -> Path:
        """scripts/install-kafka.sh's `part`: the broker, or its command-line tools."""
        install_log = self.state_dir / f"install-kafka{'' if part == 'broker' else '-' + part}.log"
        with open(install_log, "wb") as log:
            try:
                result = subprocess.run(
                    ["bash", str(_INSTALL_SCRIPT), part],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    timeout=_INSTALL_TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise StackError(
                    f"Kafka broker install did not finish within {_INSTALL_TIMEOUT:.0f}s; "
                    f"its log is {install_log}:\n{_process.tail(install_log)}"
                ) from None
        if result.returncode != 0:
            raise StackError(
                f"Kafka broker install failed (scripts/install-kafka.sh exited with "
                f"{result.returncode}); its log is {install_log}:\n{_process.tail(install_log)}"
            )
        # The script's last line is the install directory.
        lines = [line for line in install_log.read_text(errors="replace").splitlines() if line]
        home = Path(lines[-1].strip()) if lines else Path()
        if not (home / ".complete").is_file():
            raise StackError(
                f"Kafka broker install reported no complete install directory; its log is "
                f"{install_log}:\n{_process.tail(install_log)}"
            )
        return home

    def _write_properties(self) -> None:
        # Rewritten on every start: ports may differ between runs, and the quorum state of a
        # static single-voter KRaft cluster holds only node ids, not addresses.
        # The plaintext listener stays the inter-broker one and the one readiness is asked on.
        served = {"PLAINTEXT": self.port, **(self.secure.listeners() if self.secure else {})}
        advertised = ",".join(f"{name}://127.0.0.1:{port}" for name, port in served.items())
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"{advertised},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": advertised,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            # Each listener is named after its security protocol.
            "listener.security.protocol.map": ",".join(
                ["CONTROLLER:PLAINTEXT", *(f"{name}:{name}" for name in served)]
            ),
            "log.dirs": str(self._data_dir),
            # One broker: every internal topic can have only one replica.
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # How old an open transaction must be before the watch may call it hanging
            # (localstack/hanging.py); Kafka's default is 15 minutes.
            "transaction.max.timeout.ms": str(MAX_TRANSACTION_TIMEOUT_MS),
            # Tests start consumer groups often; the default 3 s delay only slows their first join.
            "group.initial.rebalance.delay.ms": "0",
            # Topics are created on purpose (with their partition count) or not at all.
            "auto.create.topics.enable": "false",
            "num.partitions": "1",
            **(self.secure.properties() if self.secure else {}),
        }
        text = "".join(f"{key}={value}\n" for key, value in props.items())
        tmp = self._properties.with_suffix(".properties.tmp")
        tmp.write_text(text)
        os.replace(tmp, self._properties)

    def _format_storage(self, log4j_flag: str, classpath: str) -> None:
        # A cluster id is a UUID's 16 bytes, URL-safe base64 without padding; Kafka rejects ids that
        # start with '-' (they read as command-line options).
        cluster_id = "-"
        while cluster_id.startswith("-"):
            cluster_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()
        logger.info("formatting Kafka storage in %s (cluster id %s)", self._data_dir, cluster_id)
        with open(self.log_path, "ab") as log:
            log.write(f"--- formatting storage, cluster id {cluster_id}\n".encode())
            log.flush()
            result = subprocess.run(
                [
                    "java",
                    log4j_flag,
                    "-cp",
                    classpath,
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    cluster_id,
                    "-c",
                    str(self._properties),
                    "--ignore-formatted",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.state_dir,
                timeout=120,
                check=False,
            )
        if result.returncode != 0:
            raise StackError(
                f"Kafka broker storage format failed (exit code {result.returncode}); its log is "
                f"{self.log_path}:\n{_process.tail(self.log_path)}"
            )

    def _wait_ready(self, timeout: float) -> None:
        # Usually ~2-3 s, longer after an unclean stop (log recovery), which is preceded by the
        # controller's step (kafka_fence.py: a JVM start and a 3 s session, ~8 s here). The
        # node's own session stays Kafka's 9 s: a shorter one would risk fencing a broker merely
        # starved of CPU on a busy machine.
        admin: AdminClient | None = None

        def ready() -> bool:
            nonlocal admin
            # Only build the client once the port answers, so librdkafka does not log a stream
            # of connection-refused errors while the JVM starts.
            if not _process.port_open(self.port):
                return False
            if admin is None:
                admin = AdminClient({"bootstrap.servers": self.bootstrap_servers})
            return bool(admin.list_topics(timeout=2).brokers)

        _process.wait_until(
            ready,
            what="Kafka broker",
            log_path=self.log_path,
            timeout=timeout,
            process=self._process,
        )
