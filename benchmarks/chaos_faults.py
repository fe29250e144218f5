"""The chaos run's hands: each scheduled fault applied to the real processes (kill -9, SIGSTOP, a
stopped database, a consumer slowed, a burst of load) and undone when its time is up, logged."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import queue
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chaos_burst import BurstVenue
from chaos_schedule import BROKER, BURST, BURST_FACTOR, DATABASE, KILL, PAUSE, SLOW, Fault, Plan

from tickwire_core.localstack.kafka import LocalKafka
from tickwire_core.localstack.postgres import LocalPostgres
from tickwire_core.localstack.supervisor import Supervisor

_RETRY_S = 1.0  # a fault whose target is down is tried again this much later
# A broker recovering every partition after kill -9 took 60-90 s on a busy 2-core machine, and
# over 90 s (the start-up's default patience) once: the run waits longer, and starts it again.
_RESTORE_TIMEOUT_S = 300.0
_RESTORE_ATTEMPTS = 3
# A slowed consumer is stopped for this much of every second: it keeps its partitions (its
# group session is 10 s) and works a fifth of the time.
_SLOW_STOPPED_S, _SLOW_RUNNING_S = 0.8, 0.2


class FaultRunner:
    """Begins and ends faults. A killed service is left to the local run's supervisor, told to
    restart it after the fault's hold rather than its own backoff; the broker and the database
    are started again on a thread of their own, as their start-up takes seconds. That thread
    lives as long as the run: the servers are spawned with a parent-death signal, which the
    kernel sends when the spawning thread, not process, ends."""

    def __init__(
        self,
        supervisor: Supervisor,
        broker: LocalKafka,
        postgres: LocalPostgres,
        log: Path,
        slow_consumer: Callable[[], int | None],
        burst: tuple[BurstVenue, float],
    ) -> None:
        self.supervisor, self.broker, self.postgres = supervisor, broker, postgres
        self.slow_consumer = slow_consumer  # the second normalize's pid, None while it is down
        self.burst_venue, self.rate = burst  # the venue, and the steady rate to multiply
        self._undo: dict[Fault, tuple[threading.Event, threading.Thread]] = {}
        self.log_path = log
        self.kills: dict[str, int] = {}  # service -> kills applied
        self.skipped: list[Fault] = []  # tries that found their target down (then retried)
        self.applied: Counter[str] = Counter()  # kind -> faults applied
        self.ended: list[tuple[str, float]] = []  # (kind, monotonic time the fault was undone)
        self._paused: dict[Fault, int] = {}  # pid stopped by a pause
        self._lock = threading.Lock()
        # One thread each, so that a broker slow to come back does not hold up the database.
        self._restoring: dict[str, queue.Queue[Callable[[], None]]] = {}
        for target in ("broker", "database"):
            jobs: queue.Queue[Callable[[], None]] = queue.Queue()
            self._restoring[target] = jobs
            threading.Thread(
                target=self._restore_forever, args=(jobs,), name=f"restore-{target}", daemon=True
            ).start()

    def begin(self, fault: Fault) -> bool:
        """Apply `fault`; False where its target is not running (down from an earlier fault)."""
        if fault.kind == KILL:
            return self._kill(fault)
        if fault.kind in (BROKER, DATABASE) and self._restoring[fault.target].unfinished_tasks:
            return self._skip(fault, "still starting after the last fault")
        if fault.kind == BROKER:
            pid = self.broker.running_pid
            if pid is None:
                return self._skip(fault, "no broker running")
            os.kill(pid, signal.SIGKILL)
            self._note("begin", fault, pid=pid)
        elif fault.kind == DATABASE:
            if self.postgres.running_pid is None:
                return self._skip(fault, "no database running")
            self.postgres.stop()
            self._note("begin", fault)
        elif fault.kind == PAUSE:
            process = self.supervisor.pipeline.services[fault.target].process
            if process is None or process.poll() is not None:
                return self._skip(fault, "service not running")
            os.kill(process.pid, signal.SIGSTOP)
            self._paused[fault] = process.pid
            self._note("begin", fault, pid=process.pid)
        elif fault.kind == SLOW:
            pid = self.slow_consumer()
            if pid is None:
                return self._skip(fault, "second normalize not running")
            stop = threading.Event()
            thread = threading.Thread(target=self._duty_cycle, args=(pid, stop), name="chaos-slow")
            thread.start()
            self._undo[fault] = (stop, thread)
            self._note("begin", fault, pid=pid)
        elif fault.kind == BURST:
            stop = threading.Event()
            rate = self.rate * BURST_FACTOR
            self._undo[fault] = (stop, self.burst_venue.burst(rate, stop))
            self._note("begin", fault, rate=rate)
        return True

    def later(self, fault: Fault, plan: Plan) -> Fault | None:
        """A fault whose target was down, tried again in a second while it still ends before the
        load's last stretch; None once it cannot."""
        retry = dataclasses.replace(fault, at_s=round(fault.at_s + _RETRY_S, 3))
        return retry if retry.ends_s <= plan.duration_s - plan.cooldown_s else None

    def end(self, fault: Fault) -> None:
        if fault.kind == KILL:
            # The supervisor restarts it: its restart_at is this moment.
            self._ended(fault)
        elif fault.kind == BROKER:
            self._restore(fault, self.broker.start)
        elif fault.kind == DATABASE:
            self._restore(fault, self.postgres.start)
        elif fault.kind == PAUSE:
            pid = self._paused.pop(fault)
            process = self.supervisor.pipeline.services[fault.target].process
            if process is not None and process.pid == pid:  # not killed and restarted meanwhile
                os.kill(pid, signal.SIGCONT)
            self._ended(fault)
        elif fault.kind in (SLOW, BURST):
            stop, thread = self._undo.pop(fault)
            stop.set()
            thread.join()
            self._ended(fault)

    def wait_restored(self) -> None:
        for jobs in self._restoring.values():
            jobs.join()

    @staticmethod
    def _duty_cycle(pid: int, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                os.kill(pid, signal.SIGSTOP)
                stop.wait(_SLOW_STOPPED_S)
                os.kill(pid, signal.SIGCONT)
                stop.wait(_SLOW_RUNNING_S)
        except ProcessLookupError:
            return  # it exited (and is restarted unslowed): the fault is over for it
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    @staticmethod
    def _restore_forever(jobs: queue.Queue[Callable[[], None]]) -> None:
        while True:
            job = jobs.get()
            try:
                job()
            finally:
                jobs.task_done()

    def _kill(self, fault: Fault) -> bool:
        name = fault.target
        process = self.supervisor.pipeline.services[name].process
        restarts = self.supervisor.restarts.get(name)
        if restarts is None or process is None or process.poll() is not None:
            return self._skip(fault, "service not running")
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        self.supervisor.record_exit(name, process.returncode)
        restarts.restart_at = self.supervisor.clock() + fault.hold_s
        self.kills[name] = self.kills.get(name, 0) + 1
        self._note("begin", fault, pid=process.pid)
        return True

    def _restore(self, fault: Fault, start: Callable[..., None]) -> None:
        def run() -> None:
            began = time.monotonic()
            for attempt in range(1, _RESTORE_ATTEMPTS + 1):
                try:
                    start(timeout=_RESTORE_TIMEOUT_S)
                except Exception as exc:  # tried again: the rest of the run needs it back
                    self._note("restore failed", fault, attempt=attempt, error=str(exc)[:300])
                    continue
                self._note("restored", fault, start_s=round(time.monotonic() - began, 1))
                return

        self._ended(fault)
        self._restoring[fault.target].put(run)

    def _ended(self, fault: Fault) -> None:
        with self._lock:
            self.ended.append((fault.kind, time.monotonic()))
        self._note("end", fault)

    def _skip(self, fault: Fault, why: str) -> bool:
        self.skipped.append(fault)
        self._note("skipped", fault, why=why)
        return False

    def _note(self, what: str, fault: Fault, **detail: Any) -> None:
        if what == "begin":
            self.applied[fault.kind] += 1
        entry = {"at": round(time.time(), 3), "what": what, **fault.__dict__, **detail}
        with self._lock, open(self.log_path, "a") as log:
            log.write(json.dumps(entry) + "\n")
