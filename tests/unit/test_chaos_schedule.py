"""The chaos run's fault schedule: the same seed gives the same faults (a failed run can be
replayed), another seed others; every service is killed as often as the plan says, up again
before its next kill, and every fault is over before the load ends."""

import itertools

import pytest

from tests.unit.benchmark_modules import load_benchmark

chaos_schedule = load_benchmark("chaos_schedule")
Plan, schedule = chaos_schedule.Plan, chaos_schedule.schedule
KILL, BROKER, DATABASE, PAUSE = (
    chaos_schedule.KILL,
    chaos_schedule.BROKER,
    chaos_schedule.DATABASE,
    chaos_schedule.PAUSE,
)


def test_the_same_seed_gives_the_same_schedule_and_another_seed_another() -> None:
    assert schedule(7, Plan.long()) == schedule(7, Plan.long())
    assert schedule(7, Plan.long()) != schedule(8, Plan.long())


@pytest.mark.parametrize("plan", [Plan.long(), Plan.short(), Plan.long(900.0)])
def test_each_service_is_killed_as_planned_and_is_up_before_its_next_kill(plan) -> None:
    faults = schedule(3, plan)
    for service in chaos_schedule.SERVICES:
        kills = [f for f in faults if f.kind == KILL and f.target == service]
        assert len(kills) == plan.kills_per_service
        for before, after in itertools.pairwise(kills):
            assert before.ends_s <= after.at_s
        assert all(plan.kill_hold_s[0] <= f.hold_s <= plan.kill_hold_s[1] for f in kills)


@pytest.mark.parametrize("plan", [Plan.long(), Plan.short()])
@pytest.mark.parametrize("seed", range(20))
def test_faults_fall_between_warmup_and_cooldown_and_infrastructure_ones_do_not_overlap(
    seed, plan
) -> None:
    faults = schedule(seed, plan)
    assert faults == sorted(faults, key=lambda f: f.at_s)
    assert all(plan.warmup_s <= f.at_s for f in faults)
    assert all(f.ends_s <= plan.duration_s - plan.cooldown_s + 1e-6 for f in faults)
    infrastructure = [f for f in faults if f.kind != KILL]
    assert [f.kind for f in infrastructure].count(BROKER) == plan.broker_kills
    assert [f.hold_s for f in infrastructure if f.kind == DATABASE] == [plan.database_stop_s]
    (pause,) = [f for f in infrastructure if f.kind == PAUSE]
    assert pause.target in chaos_schedule.CONSUMERS and pause.hold_s == plan.pause_s
    # Past the consumers' 10 s group session, so the pause costs the group a rebalance.
    assert pause.hold_s > 10.0
    (slow,) = [f for f in infrastructure if f.kind == chaos_schedule.SLOW]
    (burst,) = [f for f in infrastructure if f.kind == chaos_schedule.BURST]
    assert (slow.hold_s, burst.hold_s) == (plan.slow_s, plan.burst_s)
    assert {f.kind for f in faults} == set(chaos_schedule.KINDS)
    if plan.broker_first:
        assert infrastructure[0].kind == BROKER
    for before, after in itertools.pairwise(infrastructure):
        assert before.ends_s <= after.at_s


def test_a_run_too_short_for_its_warmup_and_cooldown_is_refused() -> None:
    with pytest.raises(ValueError, match="no time for faults"):
        schedule(1, Plan.short(20.0))
