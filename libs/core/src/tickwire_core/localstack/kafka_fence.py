"""After an unclean stop (kill -9, a crash), the local single-node broker is restarted in two steps:
its controller alone first, until it fences the broker's old incarnation, then the whole node.

Started in one go, the node's controller still counts the dead incarnation as alive until its
session times out (broker.session.timeout.ms), and refuses the new one meanwhile
(DUPLICATE_BROKER_REGISTRATION). The broker side does not wait: it takes the metadata image it
loaded, in which it leads every partition, becomes the transaction coordinator, and starts writing
the markers of transactions the crash left between PREPARE_COMMIT and their markers. Then the
controller fences the old incarnation, every partition is briefly without a leader, and Kafka takes
a partition without a leader for a deleted one: it completes the transaction without its markers
("Couldn't find leader endpoint ... likely deleted already"). The partitions keep an open
transaction that nothing closes; their last stable offset stops there, and so does every
read_committed consumer (the sink, signals). Neither aborting that transaction nor leaving it is
right in general: the producer's next transaction may already have committed the same input's
offsets (localstack/hanging.py).

With the old incarnation fenced first, the restarted broker's first image has it fenced and every
partition without a leader: it coordinates nothing until the controller lets it in and makes it
leader again, and by then every partition has its leader and every marker is written. A cluster
whose partitions have other replicas to lead them does not meet this; one broker does."""

from __future__ import annotations

import logging
import signal
import time
from pathlib import Path

from tickwire_core.localstack import _process

logger = logging.getLogger(__name__)

# Only the controller runs during this step and no broker heartbeats to it: a short session
# fences the old incarnation soon after the controller is active.
_SESSION_MS = 3000
_FENCING = "Fencing broker 1 "
_FENCED = "fenced=1,"  # the fence record replayed, hence committed to the metadata log
_ACTIVE = "Becoming the active controller"
_TIMEOUT_S = 90.0


def unclean_stop(data_dir: Path) -> bool:
    """Kafka writes .kafka_cleanshutdown into its log dir when it stops cleanly and removes it
    when it starts: a formatted dir without it was left by a broker that did not stop."""
    return (data_dir / "meta.properties").exists() and not (
        data_dir / ".kafka_cleanshutdown"
    ).exists()


def fence_old_incarnation(
    state_dir: Path, data_dir: Path, controller_port: int, java: list[str], log_path: Path
) -> None:
    """Run the node as a controller alone until it fences broker 1's old incarnation (or, if that
    one was fenced already, for a session's length), then stop it cleanly. `java` is the command
    up to the main class: JVM flags, logging and class path."""
    properties = state_dir / "controller.properties"
    properties.write_text(
        "".join(
            f"{key}={value}\n"
            for key, value in {
                "process.roles": "controller",
                "node.id": "1",
                "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
                "listeners": f"CONTROLLER://127.0.0.1:{controller_port}",
                "controller.listener.names": "CONTROLLER",
                "listener.security.protocol.map": "CONTROLLER:PLAINTEXT",
                "log.dirs": str(data_dir),
                "broker.session.timeout.ms": str(_SESSION_MS),
            }.items()
        )
    )
    with open(log_path, "ab") as log:
        log.write(b"--- unclean stop: the controller alone fences the old broker first\n")
        start = log.tell()
    began = time.monotonic()
    controller = _process.spawn(
        [*java, "kafka.Kafka", str(properties)],
        log_path,
        cwd=state_dir,
        death_signal=signal.SIGTERM,
    )
    outcome = "did not fence the old incarnation"  # unless the loop finds otherwise
    try:
        active_at = None
        while time.monotonic() - began < _TIMEOUT_S and controller.poll() is None:
            with open(log_path, "rb") as log:
                log.seek(start)
                text = log.read().decode(errors="replace")
            if _FENCING in text and _FENCED in text[text.index(_FENCING) :]:
                outcome = "fenced the old incarnation"
                break
            if active_at is None and _ACTIVE in text:
                active_at = time.monotonic()
            if active_at is not None and time.monotonic() - active_at > _SESSION_MS / 1000 + 5:
                outcome = "found the old incarnation fenced already"
                break
            time.sleep(0.2)
        else:
            logger.warning(
                "the Kafka controller did not fence the broker's old incarnation within %.0fs "
                "(exit code %s); starting the node anyway, see %s",
                _TIMEOUT_S,
                controller.poll(),
                log_path,
            )
    finally:
        if controller.poll() is None:
            _process.terminate(controller.pid, "kafka.Kafka", timeout=30.0)
        controller.wait()
    logger.info("the Kafka controller alone %s in %.1fs", outcome, time.monotonic() - began)
