"""The local run's restart policy on a clock the test moves: backoff doubling to its cap, reset by
a long run, a crash loop declared after too many exits in the window, and its settings."""

from __future__ import annotations

import pytest

from tickwire_core.errors import ConfigError
from tickwire_core.localstack.restarts import RestartPolicy, Restarts, ServiceState

POLICY = RestartPolicy(
    backoff_s=1, backoff_max_s=8, reset_after_s=60, crash_loop_exits=5, crash_loop_window_s=300
)


def crash_and_restart(service: Restarts, now: float) -> float:
    """Exit at `now`, restart when due; returns the delay that was waited."""
    assert service.exited(now) is ServiceState.RESTARTING
    assert service.restart_at is not None
    delay = service.restart_at - now
    assert not service.due(service.restart_at - 0.01)
    assert service.due(service.restart_at)
    service.restarted(service.restart_at)
    return delay


def test_the_delay_doubles_up_to_its_cap() -> None:
    # Runs of 30 s (short of reset_after_s) exit 6 times in 300 s: no crash loop at 99 exits.
    service = Restarts(RestartPolicy(backoff_s=1, backoff_max_s=8, crash_loop_exits=99), 0.0)
    now, delays = 0.0, []
    for _ in range(6):
        now += 30
        delays.append(crash_and_restart(service, now))
        now = service.started_at
    assert delays == [1, 2, 4, 8, 8, 8]
    assert service.restarts == 6 and service.state is ServiceState.RUNNING


def test_a_run_long_enough_resets_the_delay() -> None:
    service = Restarts(POLICY, 0.0)
    assert crash_and_restart(service, 5) == 1
    assert crash_and_restart(service, service.started_at + 5) == 2
    assert crash_and_restart(service, service.started_at + 59.9) == 4  # not quite long enough
    assert crash_and_restart(service, service.started_at + 60) == 1


def test_too_many_exits_in_the_window_is_a_crash_loop() -> None:
    service = Restarts(POLICY, 0.0)
    now = 0.0
    for _ in range(4):
        crash_and_restart(service, now + 1)
        now = service.started_at
    assert service.exited(now + 1) is ServiceState.CRASH_LOOPING
    assert service.restart_at is None and not service.due(now + 10_000)
    assert service.restarts == 4


def test_exits_older_than_the_window_do_not_count() -> None:
    service = Restarts(POLICY, 0.0)
    now = 0.0
    for _ in range(40):  # runs of 76 s and 1 s delays: an exit every 77 s (over 75), 4 in any 300 s
        now += 76
        crash_and_restart(service, now)
        now = service.started_at
    assert service.state is ServiceState.RUNNING and service.restarts == 40


def test_the_defaults_and_their_settings() -> None:
    assert RestartPolicy.from_environ({}) == RestartPolicy(1.0, 30.0, 60.0, 5, 300.0)
    policy = RestartPolicy.from_environ(
        {
            "TICKWIRE_RESTART_BACKOFF_S": "0.2",
            "TICKWIRE_RESTART_BACKOFF_MAX_S": "1",
            "TICKWIRE_RESTART_RESET_AFTER_S": "600",
            "TICKWIRE_CRASH_LOOP_EXITS": "3",
            "TICKWIRE_CRASH_LOOP_WINDOW_S": "60",
        }
    )
    assert policy == RestartPolicy(0.2, 1.0, 600.0, 3, 60.0)


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("TICKWIRE_RESTART_BACKOFF_S", "0"),
        ("TICKWIRE_RESTART_BACKOFF_MAX_S", "soon"),
        ("TICKWIRE_CRASH_LOOP_EXITS", "2.5"),
        ("TICKWIRE_CRASH_LOOP_WINDOW_S", "-1"),
    ],
)
def test_a_bad_setting_names_itself(var: str, value: str) -> None:
    with pytest.raises(ConfigError, match=var):
        RestartPolicy.from_environ({var: value})


def test_exits_a_minute_apart_still_add_up_to_a_crash_loop() -> None:
    service = Restarts(POLICY, 0.0)
    now = 0.0
    for _ in range(4):  # runs of 60 s and 1 s delays: 5 exits in 245 s
        crash_and_restart(service, now + 60)
        now = service.started_at
    assert service.exited(now + 60) is ServiceState.CRASH_LOOPING
