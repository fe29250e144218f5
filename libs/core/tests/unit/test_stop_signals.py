"""A stop must end: a service stuck flushing to brokers that went away with the signal exits
anyway once its grace has run out, and a second signal exits at once."""

import signal
import subprocess
import sys
import time

_STUCK_SERVICE = """
import sys, time
from tickwire_core.stopping import stop_on_signals
stop = stop_on_signals("stuck", grace_s=float(sys.argv[1]))
print("ready", flush=True)
stop.wait()
print("stopping", flush=True)
while True:  # a flush that never returns
    time.sleep(0.05)
"""


def _start(grace_s: float) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", _STUCK_SERVICE, str(grace_s)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def test_a_stop_that_hangs_exits_with_1_after_the_grace() -> None:
    process = _start(grace_s=1.0)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(30)
    waited = time.monotonic() - sent
    out, err = process.communicate()
    assert code == 1
    assert "stopping" in out  # the graceful path ran first
    assert "stuck: not stopped 1s after the signal; exiting" in err
    assert waited >= 1.0  # not before the grace was up


def test_a_second_signal_exits_at_once() -> None:
    process = _start(grace_s=300.0)
    process.send_signal(signal.SIGTERM)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "stopping"
    process.send_signal(signal.SIGINT)
    code = process.wait(30)
    process.communicate()
    assert code == 128 + signal.SIGINT
