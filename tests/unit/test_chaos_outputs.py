"""The chaos run's checks of what follows the ticks: bars and judgements against the signals
service's own handler run undisturbed, the quality report's gaps against the stored gap events,
and the soak run's 10-second rows."""

from collections import Counter
from datetime import date

from tests.unit.benchmark_modules import load_benchmark
from tickwire_testing.signals import quote, trade

signals = load_benchmark("chaos_signals")
quality = load_benchmark("chaos_quality")
soak = load_benchmark("chaos_soak")

SECOND = 1_000_000
KEY = b"sim|A"


def ordered(count: int) -> dict[int, list[tuple[bytes, dict]]]:
    ticks = []
    for i in range(count):
        ts = 1_700_000_000 * SECOND + i * SECOND // 4
        price = 100.0 + (i % 7) * 0.01
        if i % 2:
            ticks.append((KEY, trade(ts, price, instrument="A")))
        else:
            ticks.append((KEY, quote(ts, price - 0.01, price + 0.01, instrument="A")))
    return {0: ticks}


def test_the_reference_makes_bars_by_natural_key_however_the_partitions_are_listed() -> None:
    judged = signals.judge(ordered(400))
    assert judged.ticks == 400
    assert judged.bars, "100 s of trades close bars"
    key = next(iter(judged.bars))
    assert key == signals.bar_key(judged.bars[key])
    assert signals.judge({**ordered(400), 3: []}).bars == judged.bars


def test_missing_extra_and_different_outputs_are_each_named() -> None:
    expected = {("sim", "A", "1s", 1): {"close": 1.0}, ("sim", "A", "1s", 2): {"close": 2.0}}
    stored = {("sim", "A", "1s", 2): {"close": 2.5}, ("sim", "A", "1s", 3): {"close": 3.0}}
    check = signals.compare_outputs(expected, stored, ["close"])
    assert not check.ok
    assert check.missing == [("sim", "A", "1s", 1)]
    assert check.extra == [("sim", "A", "1s", 3)]
    assert check.different == [(("sim", "A", "1s", 2), "close 2.0 -> 2.5")]
    assert "first different: sim|A|1s|2 (close 2.0 -> 2.5)" in signals.describe(check, "bars")
    assert signals.compare_outputs(expected, expected, ["close"]).ok


def test_a_key_published_in_two_versions_is_named() -> None:
    published = signals.Published(
        {("k",): [{"close": 1.0}], ("j",): [{"close": 1.0}, {"close": 2.0}]}
    )
    assert published.repeated_unlike() == [("j",)]


def test_a_correction_replaces_what_it_corrects_and_is_no_differing_republish() -> None:
    critical = {"severity": "critical", "value": 9.0}
    confirmed = {"severity": "confirmed", "value": 9.0}
    assert signals.corrects(confirmed, critical)
    assert not signals.corrects(critical, confirmed)  # never back
    assert not signals.corrects({"severity": "warning"}, critical)
    assert signals.corrects({"revision": 1, "close": 2.0}, {"revision": 0, "close": 1.0})
    assert not signals.corrects({"revision": 0, "close": 2.0}, {"revision": 1, "close": 1.0})
    # The critical, its correction, and the critical again (a batch repeated after a crash).
    published = signals.Published()
    for version in (critical, confirmed, critical):
        published.records += 1
        seen = published.versions.setdefault(("p", "i", "rule", 1), [])
        signals.keep_version(seen, version)
    assert published.versions == {("p", "i", "rule", 1): [confirmed]}
    assert published.repeated_unlike() == []
    signals.keep_version(published.versions[("p", "i", "rule", 1)], {**confirmed, "value": 8.0})
    assert published.repeated_unlike() == [("p", "i", "rule", 1)]


def test_report_gaps_unlike_the_stored_events_are_named() -> None:
    day = date(2026, 12, 7)
    a, b = ("simulator", "A", day), ("simulator", "B", day)
    stored = {a: Counter(silence=2), b: Counter(backpressure=1)}
    seconds = {a: 10.0, b: 1.0}
    reported = {
        a: (2, 10.0, {"silence": {"gaps": 2, "seconds": 10.0, "lost": 0}}),
        b: (1, 4.0, {"backpressure": {"gaps": 1, "seconds": 4.0, "lost": 0}}),
    }
    assert quality.compare_gaps(stored, seconds, reported) == [
        "simulator/B/2026-12-07: 1.000 s stored, 4.000 s"
    ]
    del reported[b]
    assert quality.compare_gaps(stored, seconds, reported) == [
        "simulator/B/2026-12-07: 1 gap events, no row in the report"
    ]


def test_soak_rows_hold_each_ten_seconds_peak() -> None:
    memory = {"sink": [(100.0 + t, 50.0 + t) for t in range(25)]}
    # Stored ticks a second old, but none newer from 111 s to 116 s: a 5 s stall.
    newest = [(100.0 + t, 111.0 if 12 <= t <= 16 else 99.0 + t) for t in range(25)]
    series = soak.fold(memory, newest, began=100.0, ended=125.0)
    assert [t for t, _, _ in series.rows] == [10.0, 20.0]
    assert [p[0] for _, p, _ in series.rows] == [59.0, 69.0]
    assert [age for _, _, age in series.rows] == [1.0, 5.0]
