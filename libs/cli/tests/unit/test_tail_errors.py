"""The error paths of `tickwire tail`, as a script sees them: one line on stderr and exit code 2
(used wrongly) or 1 (the broker is not there), never a traceback."""

from __future__ import annotations


def test_an_unknown_topic_is_a_usage_error_naming_the_valid_ones(tickwire) -> None:
    assert tickwire.error_line("tail", "tickz", code=2) == (
        "tickwire: error: unknown topic 'tickz'; valid: raw, ticks, bars, anomalies, signals, "
        "short_volume, short_interest, deadletter, status, dedup_tallies (or their full names) "
        "(hint: topics are listed in schemas/topics.toml)"
    )


def test_a_bad_start_and_a_bad_output_are_usage_errors(tickwire) -> None:
    assert tickwire.error_line("tail", "ticks", "--from", "yesterday", code=2).startswith(
        "tickwire: error: --from 'yesterday' is neither earliest, latest nor an ISO time"
    )
    assert "'--output'" in tickwire.error_line("tail", "ticks", "--output", "xml", code=2)
    assert "'--limit'" in tickwire.error_line("tail", "ticks", "--limit", "0", code=2)


def test_an_unreachable_broker_is_one_line_naming_it(tickwire, unreachable) -> None:
    line = tickwire.error_line("--bootstrap-servers", unreachable, "tail", "ticks", code=1)
    assert line.startswith(f"tickwire: error: cannot reach Kafka at {unreachable}: ")


def test_tail_help_has_an_example(tickwire) -> None:
    done = tickwire("tail", "--help")
    assert done.returncode == 0
    assert "Example: tickwire tail " in done.stdout
