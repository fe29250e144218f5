from pathlib import Path

from tickwire_ingest.domain.faults import FaultConfig
from tickwire_ingest.domain.simulator import SimConfig, SimMessage, Simulator, parse_instruments
from tickwire_ingest.feeds.sim_state import VenuePosition, load, save

T0 = 1_700_000_000_000_000


def venue(seed: int = 7) -> Simulator:
    # Faults on, so the fault dice's stream has to survive the restart too.
    faults = FaultConfig(spike=0.01, crossed=0.01, out_of_order=0.01, gap=0.01)
    return Simulator(SimConfig(parse_instruments("A:100,B:3500:0.05"), seed=seed, faults=faults))


def payloads(sim: Simulator, start: int, n: int) -> list[bytes]:
    sent = [m for i in range(start, start + n) for m in sim.step(T0 + i)]
    return [m.payload for m in sent if isinstance(m, SimMessage)]


def test_a_resumed_venue_sends_what_the_uninterrupted_one_sends(tmp_path: Path) -> None:
    steady, restarted = venue(), venue()
    before = payloads(restarted, 0, 500)
    assert before == payloads(steady, 0, 500)
    save(tmp_path / "venue", VenuePosition(restarted, 1_700_000_000.0, 500))

    position = load(tmp_path / "venue", venue())
    assert position is not None
    assert (position.updates, position.started_wall_s) == (500, 1_700_000_000.0)
    # The sequence goes on from 501, not from 1: the same updates as the venue that never stopped.
    assert payloads(position.simulator, 500, 500) == payloads(steady, 500, 500)


def test_no_file_another_venue_or_a_broken_file_start_afresh(tmp_path: Path) -> None:
    path = tmp_path / "venue"
    assert load(path, venue()) is None
    save(path, VenuePosition(venue(seed=8), 0.0, 10))
    assert load(path, venue(seed=7)) is None
    path.write_bytes(b"not a pickle")
    assert load(path, venue()) is None
