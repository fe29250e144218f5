import json
from collections import Counter

import pytest

from tickwire_ingest.domain.raw import Envelope
from tickwire_ingest.domain.simulator import SimConfig, Simulator, parse_instruments

T0 = 1_700_000_000_000_000


def messages(seed: int = 7, n: int = 2000, instruments: str = "A:100,B:3500:0.05") -> list[dict]:
    sim = Simulator(SimConfig(parse_instruments(instruments), seed=seed))
    return [json.loads(sim.next_message(T0 + i).payload) for i in range(n)]


def test_same_seed_same_feed_other_seed_other_feed() -> None:
    assert messages(seed=7) == messages(seed=7)
    assert messages(seed=7) != messages(seed=8)


def test_quotes_are_never_crossed_or_locked_and_sit_on_the_tick_grid() -> None:
    quotes = [m for m in messages() if m["type"] == "quote"]
    assert len(quotes) > 1000
    for q in quotes:
        bid, ask = float(q["bid"]), float(q["ask"])
        assert 0 < bid < ask
        tick = 0.01 if q["instrument"] == "A" else 0.05
        assert abs(round(bid / tick) * tick - bid) < 1e-9
        assert float(q["bid_size"]) > 0 and float(q["ask_size"]) > 0


def test_trades_happen_at_the_touch_with_unique_ids_and_both_sides() -> None:
    msgs = messages()
    trades = [m for m in msgs if m["type"] == "trade"]
    assert 0.15 < len(trades) / len(msgs) < 0.35  # trade_probability 0.25
    assert len({t["trade_id"] for t in trades}) == len(trades)
    assert Counter(t["side"] for t in trades).keys() == {"buy", "sell"}
    assert all(float(t["size"]) > 0 for t in trades)


def test_sequence_numbers_run_per_instrument_without_gaps() -> None:
    seqs: dict[str, list[int]] = {}
    for m in messages():
        seqs.setdefault(m["instrument"], []).append(m["seq"])
    for values in seqs.values():
        assert values == list(range(1, len(values) + 1))


def test_mid_random_walk_stays_near_its_start_over_a_short_run() -> None:
    quotes = [m for m in messages(n=5000, instruments="A:100") if m["type"] == "quote"]
    mids = [(float(q["bid"]) + float(q["ask"])) / 2 for q in quotes]
    assert min(mids) > 90 and max(mids) < 110
    assert len(set(mids)) > 50  # it moves


@pytest.mark.parametrize("spec", ["", ":100", "A:-1", "A:100:0", "A:abc", "A:nan"])
def test_bad_instrument_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_instruments(spec)


def test_envelope_numbers_records_of_one_instance() -> None:
    env = Envelope("simulator", "replica")
    first = env.wrap("quotes", "A", b"{}", 5)
    second = env.wrap("trades", "A", b"{}", 6)
    assert (first["ingest_seq"], second["ingest_seq"]) == (1, 2)
    assert first["ingest_instance"] == "replica" and first["received_ts"] == 5
