"""The error paths of `tickwire deadletters`, as a script sees them: one line on stderr and exit
code 2 (used wrongly) or 1 (the broker is not there), never a traceback."""

from __future__ import annotations


def test_a_redrive_must_be_told_what_to_take(tickwire) -> None:
    assert tickwire.error_line("deadletters", "redrive", code=2) == (
        "tickwire: error: choose what to redrive: --reason, --provider, --instrument, "
        "--source-topic, --service, --since/--until, or --all"
    )
    args = ("deadletters", "redrive", "--since", "2026-03-02", "--until", "2026-03-01")
    assert tickwire.error_line(*args, code=2) == "tickwire: error: --until must be after --since"


def test_every_command_has_an_example_in_its_help(tickwire) -> None:
    for args in (["deadletters"], ["deadletters", "summary"], ["deadletters", "redrive"]):
        done = tickwire(*args, "--help")
        assert done.returncode == 0, args
        assert "Example: tickwire " in done.stdout, args


def test_an_unreachable_broker_is_one_line_naming_it(tickwire, unreachable) -> None:
    args = ("--bootstrap-servers", unreachable, "deadletters", "summary")
    line = tickwire.error_line(*args, code=1)
    assert line.startswith(f"tickwire: error: cannot reach Kafka at {unreachable}: ")
