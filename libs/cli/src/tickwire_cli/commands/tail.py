"""`tickwire tail TOPIC`: the records of a topic decoded, as JSON lines (piped) or a table (on a
terminal), like kcat -C with the schemas already applied."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tickwire_cli.context import Env
from tickwire_cli.decoding import DEAD_LETTER_SCHEMA, Decoder, matches
from tickwire_cli.output import print_json_line, stdout_is_terminal
from tickwire_cli.reading import TopicReader, parse_start, resolve_topic
from tickwire_core.topics import Topic


class OutputFormat(StrEnum):
    json = "json"
    table = "table"


def choose_format(given: OutputFormat | None) -> OutputFormat:
    if given is not None:
        return given
    return OutputFormat.table if stdout_is_terminal() else OutputFormat.json


@contextmanager
def stop_on_interrupt() -> Iterator[threading.Event]:
    """SIGINT and SIGTERM end the read between polls instead of in the middle of one."""
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(_signum: int, _frame: object) -> None:
        stop.set()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def reader_gone() -> None:
    """`tickwire tail ... | head`: the reader has what it wanted, which is a normal end. Later
    writes (Python's own flush at exit) go nowhere instead of failing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _compact(value: Any) -> str:
    if isinstance(value, Mapping):
        value = {k: v for k, v in value.items() if v is not None}
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


class LineTable:
    """Rows printed a batch at a time (whenever the topic pauses), with fixed leading columns so
    that successive batches line up under one header."""

    def __init__(self, topic: Topic) -> None:
        self.dead_letters = topic.value_schema == DEAD_LETTER_SCHEMA
        # Forced into a pipe (no terminal width to fit), a table keeps whole lines.
        self.console = Console(width=None if stdout_is_terminal() else 240)
        self.rows: list[list[str]] = []
        self.header_shown = False

    def add(self, line: Mapping[str, Any]) -> None:
        when = (line["timestamp"] or "").replace("T", " ").removesuffix("+00:00")
        head = [str(line["partition"]), str(line["offset"]), when]
        key = line.get("key")
        key_text = key if isinstance(key, str) else _compact(key)
        value = line.get("value")
        if "error" in line:
            self.rows.append([*head, key_text, "error: " + line["error"]])
        elif self.dead_letters and isinstance(value, Mapping):
            source = value["source"]
            self.rows.append(
                [
                    *head,
                    value["reason"],
                    value["service"],
                    f"{source['topic']}/{source['partition']}/{source['offset']}",
                    _compact(value.get("payload")),
                ]
            )
        else:
            self.rows.append([*head, key_text, _compact(value)])

    def flush(self) -> None:
        if not self.rows:
            return
        table = Table(show_header=not self.header_shown, box=None, pad_edge=False, expand=True)
        fixed = [("P", 2), ("OFFSET", 8), ("TIME (UTC)", 23)]
        rest = (
            [("REASON", 22), ("SERVICE", 10), ("SOURCE", 34), ("PAYLOAD", None)]
            if self.dead_letters
            else [("KEY", 24), ("VALUE", None)]
        )
        for name, width in [*fixed, *rest]:
            if width is None:  # the last column takes the rest of the line
                table.add_column(name, ratio=1, no_wrap=True, overflow="ellipsis")
            else:
                table.add_column(name, min_width=width, max_width=width, no_wrap=True)
        for row in self.rows:
            table.add_row(*row)
        self.console.print(table)
        self.header_shown = True
        self.rows = []


TAIL_HELP = (
    "Print the records of a topic, decoded with the pipeline's schemas.\n\n"
    "Reads committed records only, from partitions it assigns itself: it joins no consumer "
    "group and commits nothing. Without --follow it stops at the end the topic had when it "
    "started. Each line holds topic, partition, offset, timestamp (Kafka's), key and the decoded "
    "value (times in UTC microseconds, as the services read them); a record that does not decode "
    'has an "error" field instead. A dead letter shows its reason, service, source and the '
    "original payload, decoded when it is a tickwire record.\n\n"
    "Example: tickwire tail deadletter --from 2026-03-01T00:00:00Z | jq .value.reason"
)


def tail(
    ctx: typer.Context,
    topic: Annotated[
        str,
        typer.Argument(
            help="raw, ticks, bars, anomalies, signals, deadletter, status, or a full name."
        ),
    ],
    start: Annotated[
        str,
        typer.Option(
            "--from", help="earliest, latest, or an ISO time (the first record at or after it)."
        ),
    ] = "earliest",
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep reading new records until Ctrl-C.")
    ] = False,
    instrument: Annotated[
        str | None, typer.Option(help="Only records of this instrument (unified or venue name).")
    ] = None,
    provider: Annotated[str | None, typer.Option(help="Only records of this provider.")] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="Stop after this many records.")
    ] = None,
    output: Annotated[
        OutputFormat | None,
        typer.Option("--output", "-o", help="json or table (default: table on a terminal)."),
    ] = None,
) -> None:
    env: Env = ctx.obj
    chosen = resolve_topic(env, topic)
    starting = parse_start(start)
    fmt = choose_format(output)
    env.check_kafka()
    decoder = Decoder(env)
    table = LineTable(chosen.topic) if fmt is OutputFormat.table else None
    shown = 0
    with stop_on_interrupt() as stop:
        reader = TopicReader(env, chosen.name, starting, follow=follow, stop=stop)
        try:
            for msg in reader:
                if msg is None:
                    if table is not None:
                        table.flush()
                    continue
                line = decoder.line(msg, chosen.topic)
                if not matches(line, chosen.topic, provider, instrument):
                    continue
                if table is not None:
                    table.add(line)
                    if len(table.rows) >= 200:
                        table.flush()
                else:
                    print_json_line(line)
                shown += 1
                if limit is not None and shown >= limit:
                    break
            if table is not None:
                table.flush()
        except BrokenPipeError:
            reader_gone()
            return
    if stop.is_set() and not follow:
        raise typer.Exit(130)  # interrupted before the end: a script must not take it as whole


def register(app: typer.Typer) -> None:
    app.command("tail", help=TAIL_HELP)(tail)
