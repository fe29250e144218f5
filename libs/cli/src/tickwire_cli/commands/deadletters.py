"""`tickwire deadletters summary|redrive`: what was rejected, where and why; and sending chosen
rejects back to their topic once their cause is fixed, each original record at most once."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from tickwire_cli.commands.tail import OutputFormat, choose_format, stop_on_interrupt
from tickwire_cli.context import Env
from tickwire_cli.decoding import Decoder, matches
from tickwire_cli.errors import CliError, UsageError
from tickwire_cli.output import (
    Reporter,
    print_json_line,
    print_table,
    progress,
    stderr_is_terminal,
)
from tickwire_cli.reading import (
    ChosenTopic,
    Start,
    TopicReader,
    parse_time,
    resolve_topic,
)
from tickwire_cli.redrives import REDRIVEN, UNCONFIRMED, DeadLetter, Sender, connect_ledger
from tickwire_core.errors import SerializationError
from tickwire_core.topics import DEAD_LETTER, Topic

logger = logging.getLogger("tickwire.cli.deadletters")

deadletters_app = typer.Typer(
    help="Look at the dead letters (records a service rejected) and send chosen ones back.\n\n"
    "Example: tickwire deadletters summary --since 2026-03-01",
    no_args_is_help=True,
)

_BATCH = 500  # dead letters claimed and produced per round trip

Since = Annotated[
    str | None, typer.Option("--since", help="Only rejections at or after this ISO time (UTC).")
]
Until = Annotated[
    str | None, typer.Option("--until", help="Only rejections before this ISO time (UTC).")
]
Output = Annotated[
    OutputFormat | None,
    typer.Option("--output", "-o", help="json or table (default: table on a terminal)."),
]


def _micros(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    return int(parse_time(text, option).timestamp() * 1_000_000)


@dataclass(frozen=True)
class Window:
    since_us: int | None
    until_us: int | None

    def holds(self, rejected_ts: int) -> bool:
        return (self.since_us is None or rejected_ts >= self.since_us) and (
            self.until_us is None or rejected_ts < self.until_us
        )

    def start(self) -> Start:
        # Kafka stamps a dead letter when it is produced, just after its rejected_ts, so the
        # first record stamped at or after --since is where reading can start.
        if self.since_us is None:
            return Start("earliest")
        return Start("time", datetime.fromtimestamp(self.since_us / 1_000_000, UTC))


def _window(since: str | None, until: str | None) -> Window:
    window = Window(_micros(since, "--since"), _micros(until, "--until"))
    if (
        window.since_us is not None
        and window.until_us is not None
        and window.until_us <= window.since_us
    ):
        raise UsageError("--until must be after --since")
    return window


def _dead_letters(
    env: Env, decoder: Decoder, window: Window, skipped: Counter[str]
) -> Iterator[DeadLetter]:
    """The dead letters of the window, up to the end of the topic as reading began."""
    topic = env.topic(DEAD_LETTER)
    with stop_on_interrupt() as stop:
        for msg in TopicReader(env, topic, window.start(), follow=False, stop=stop):
            if msg is None:
                continue
            try:
                record = decoder.serde.decode("dead_letter", msg.value())
            except SerializationError as exc:
                logger.warning(
                    "dead letter %s/%d/%d unreadable: %s", topic, msg.partition(), msg.offset(), exc
                )
                skipped["unreadable"] += 1
                continue
            if window.holds(record["rejected_ts"]):
                yield DeadLetter(msg.topic(), msg.partition(), msg.offset(), record)
        if stop.is_set():
            raise typer.Exit(130)


SUMMARY_HELP = (
    "Dead letters counted by day (UTC), source topic, service and reason.\n\n"
    "Counts the dead-letter topic, which every service writes and which needs no sink running: "
    "the same records `redrive` can send back. A rejection dead-lettered twice (a retried batch) "
    "counts once. For history beyond the topic's retention (30 days), query the sink's rejects "
    "table, which keeps a year (see docs/deadletters.md).\n\n"
    "Example: tickwire deadletters summary --since 2026-03-01T00:00:00Z"
)


@deadletters_app.command("summary", help=SUMMARY_HELP)
def summary(
    ctx: typer.Context, since: Since = None, until: Until = None, output: Output = None
) -> None:
    env: Env = ctx.obj
    window = _window(since, until)
    fmt = choose_format(output)
    env.check_kafka()
    decoder = Decoder(env)
    skipped: Counter[str] = Counter()
    seen: set[tuple[Any, ...]] = set()
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for letter in _dead_letters(env, decoder, window, skipped):
        r = letter.record
        rejection = (r["service"], *letter.origin, r["reason"])  # the sink's rejects key
        if rejection in seen:
            continue
        seen.add(rejection)
        day = datetime.fromtimestamp(r["rejected_ts"] / 1_000_000, UTC).date().isoformat()
        counts[(day, r["source_topic"], r["service"], r["reason"])] += 1
    rows = sorted(counts.items())
    if fmt is OutputFormat.json:
        for (day, source, service, reason), n in rows:
            print_json_line(
                {
                    "day": day,
                    "source_topic": source,
                    "service": service,
                    "reason": reason,
                    "count": n,
                }
            )
        return
    print_table(
        f"dead letters: {sum(counts.values())}"
        + (f" ({skipped['unreadable']} unreadable)" if skipped else ""),
        ["day", "source topic", "service", "reason", "count"],
        [[*key, n] for key, n in rows],
    )


@dataclass
class Choice:
    """What the redrive takes: every given filter must hold."""

    reasons: list[str]
    services: list[str]
    source: ChosenTopic | None
    provider: str | None
    instrument: str | None

    def takes(self, decoder: Decoder, letter: DeadLetter, dead_letter_topic: Topic) -> bool:
        r = letter.record
        if self.reasons and r["reason"] not in self.reasons:
            return False
        if self.services and r["service"] not in self.services:
            return False
        if self.source is not None and r["source_topic"] != self.source.name:
            return False
        if self.provider is None and self.instrument is None:
            return True
        line = {"value": decoder.dead_letter(r)}
        return matches(line, dead_letter_topic, self.provider, self.instrument)


REDRIVE_HELP = (
    "Send chosen dead letters back to the topic they came from, with their original key and "
    "payload, each original record at most once.\n\n"
    "Each record is first claimed in the database (table deadletter_redrives, keyed by the "
    "record's original topic, partition and offset) and the claim committed; then it is "
    "produced and, once Kafka acknowledged it, marked sent. A second or concurrent run skips "
    "what is claimed. A crash between claim and acknowledgement leaves it 'unconfirmed': reported, "
    "never sent again by itself (see docs/deadletters.md). The services see a redriven record "
    "as new input; headers tickwire-redrive-from/-origin/-reason say where it came from. Every "
    "consumer of that topic reads it again (a tick the sink refused reaches signals too): "
    "--service chooses by the service that refused it. "
    "Filters combine; at least one, or --all, is required. Ends with the counts sent, "
    "already_redriven, unconfirmed and skipped.\n\n"
    "Example: tickwire deadletters redrive --reason timestamp_out_of_range --provider deribit "
    "--since 2026-03-01T00:00:00Z --dry-run"
)


@deadletters_app.command("redrive", help=REDRIVE_HELP)
def redrive(
    ctx: typer.Context,
    reason: Annotated[
        list[str] | None, typer.Option("--reason", help="Reason code (repeat for several).")
    ] = None,
    provider: Annotated[str | None, typer.Option(help="Only records of this provider.")] = None,
    instrument: Annotated[str | None, typer.Option(help="Only records of this instrument.")] = None,
    source_topic: Annotated[
        str | None, typer.Option("--source-topic", help="Only records from this topic (raw, ...).")
    ] = None,
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Only rejections by this service.")
    ] = None,
    since: Since = None,
    until: Until = None,
    take_all: Annotated[bool, typer.Option("--all", help="Every dead letter (no filter).")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be sent; send nothing.")
    ] = False,
    output: Output = None,
) -> None:
    env: Env = ctx.obj
    window = _window(since, until)
    choice = Choice(
        reason or [],
        service or [],
        resolve_topic(env, source_topic) if source_topic else None,
        provider,
        instrument,
    )
    chose = (reason, service, source_topic, provider, instrument, since, until)
    if not take_all and not any(chose):
        raise UsageError(
            "choose what to redrive: --reason, --provider, --instrument, --source-topic, "
            "--service, --since/--until, or --all"
        )
    fmt = choose_format(output)
    admin = env.check_kafka()
    existing = set(admin.list_topics(timeout=10).topics)
    decoder = Decoder(env)
    dead_letter_topic = resolve_topic(env, "deadletter").topic
    skipped: Counter[str] = Counter()
    with progress("redrive") as reporter:
        run = Redrive(env, dry_run, fmt, reporter)
        try:
            batch: list[DeadLetter] = []
            for letter in _dead_letters(env, decoder, window, skipped):
                if not choice.takes(decoder, letter, dead_letter_topic):
                    continue
                run.counts["matched"] += 1
                target = letter.record["source_topic"]
                if decoder.source_of(letter.record) is None or target not in existing:
                    run.skip(letter, f"{target} is not a topic of this pipeline")
                    continue
                batch.append(letter)
                if len(batch) >= _BATCH:
                    run.batch(batch)
                    batch = []
            run.batch(batch)
        finally:
            run.close()
    counts = run.counts
    if run.listed:
        print_table(
            "dry run: nothing sent",
            ["dead letter", "origin", "service", "reason", "rejected_ts", "would be"],
            run.listed,
        )
    totals = {
        "matched": counts["matched"],
        ("would_send" if dry_run else "sent"): counts["sent"],
        "already_redriven": counts[REDRIVEN],
        "unconfirmed": counts[UNCONFIRMED],
        "skipped": counts["skipped"] + skipped["unreadable"],
    }
    if fmt is OutputFormat.json:
        print_json_line({"summary": totals, "dry_run": dry_run})
    else:
        print_table(
            "redrive" + (" (dry run)" if dry_run else ""), list(totals), [list(totals.values())]
        )
    if run.failures:
        raise CliError(
            f"{len(run.failures)} redriven records not acknowledged by Kafka at "
            f"{env.bootstrap_servers}; they stay claimed as unconfirmed: {run.failures[0]}",
            hint="see docs/deadletters.md on unconfirmed redrives",
        )


class Redrive:
    """One run: per batch, skip what is claimed already, claim the rest, send what it won."""

    def __init__(self, env: Env, dry_run: bool, fmt: OutputFormat, reporter: Reporter) -> None:
        self.env = env
        self.dry_run = dry_run
        self.fmt = fmt
        self.reporter = reporter
        self.counts: Counter[str] = Counter()
        self.ledger = connect_ledger(env)
        self.sender = None if dry_run else Sender(env)
        self.failures: list[str] = []
        self.listed: list[list[object]] = []  # a dry run's lines, as a table after the bar

    def close(self) -> None:
        self.ledger.close()

    def report(self, letter: DeadLetter, status: str) -> None:
        """A line per dead letter: on stdout in a dry run (what would happen to it); otherwise
        a log line, unless a progress bar is showing."""
        r = letter.record
        line = {
            "deadletter": letter.position,
            "origin": "/".join(map(str, letter.origin)),
            "service": r["service"],
            "reason": r["reason"],
            "rejected_ts": r["rejected_ts"],
            "status": status,
        }
        if self.dry_run:
            if self.fmt is OutputFormat.json:
                print_json_line(line)
            else:
                self.listed.append(list(line.values()))
        elif not stderr_is_terminal():
            logger.info("redrive %s: %s", line["origin"], status, extra=line)

    def skip(self, letter: DeadLetter, why: str) -> None:
        self.counts["skipped"] += 1
        self.report(letter, f"skipped: {why}")

    def batch(self, batch: list[DeadLetter]) -> None:
        fresh: dict[tuple[str, int, int], DeadLetter] = {}
        known = self.ledger.states(d.origin for d in batch)
        for letter in batch:
            state = known.get(letter.origin)
            if state is None and letter.origin in fresh:
                state = REDRIVEN  # a second dead letter of one record in this batch: it goes once
            if state is not None:
                self.counts[state] += 1
                self.report(letter, "already redriven" if state == REDRIVEN else state)
                continue
            fresh[letter.origin] = letter
        if self.sender is None:
            for letter in fresh.values():
                self.counts["sent"] += 1
                self.report(letter, "would send")
            self.reporter.advance(len(batch))
            return
        won = self.ledger.claim(list(fresh.values()))
        for origin, letter in fresh.items():
            if origin not in won:  # a concurrent run claimed it between our look and our claim
                self.counts[REDRIVEN] += 1
                self.report(letter, "already redriven")
        mine = [letter for origin, letter in fresh.items() if origin in won]
        acked, failures = self.sender.send(mine)
        self.ledger.confirm(acked)
        for letter in mine:
            sent = letter.origin in acked
            self.counts["sent" if sent else UNCONFIRMED] += 1
            self.report(letter, "sent" if sent else UNCONFIRMED)
        self.failures += failures
        self.reporter.advance(len(batch), sent=self.counts["sent"])


def register(app: typer.Typer) -> None:
    app.add_typer(deadletters_app, name="deadletters")
