"""`tickwire record` and `tickwire replay`: raw venue messages from the raw topic into a replay
file and back onto it (docs/replay.md), with the ingest service's own recorder and replay feed."""

from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, Producer, TopicPartition

from tickwire_cli.context import Env
from tickwire_cli.errors import CliError, UsageError
from tickwire_cli.output import help_from, progress
from tickwire_core.errors import TickwireError
from tickwire_core.topics import RAW_TICKS

logger = logging.getLogger("tickwire.cli.replay")

# A replay waits this long for room in the producer's queue before a message counts as lost (and
# a backpressure gap is published in its place): a person replaying a file wants it all.
_MAX_BLOCK_S = 60.0
_PROGRESS_EVERY_S = 0.2


def _require_ingest(what: str) -> None:
    try:
        import tickwire_ingest  # noqa: F401
    except ImportError:
        raise CliError(
            f"{what} needs tickwire_ingest, which is not installed here",
            hint="run it where ingest is installed: the workspace, or the ingest image",
        ) from None


def _speed(value: str) -> str:
    """`max` (as fast as Kafka takes them, 0 to the pacer) or a multiple of the recorded pace."""
    try:
        speed = 0.0 if value == "max" else float(value)
    except ValueError:
        speed = -1.0
    if not (0 <= speed < float("inf")) or (speed == 0 and value != "max"):
        raise typer.BadParameter(f"{value!r} is neither a number above 0 nor `max`")
    return value


def replay(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="Replay file (.gz too)."),
    ],
    speed: Annotated[
        str,
        typer.Option(
            "--speed",
            callback=_speed,
            metavar="N|max",
            help="1 = the recorded pace, 10 = ten times faster, max = as fast as Kafka takes them.",
        ),
    ] = "1",
    ingest_instance: Annotated[
        str,
        typer.Option(
            envvar="TICKWIRE_INGEST_INSTANCE",
            help="The ingest instance the records carry (gap events' identity includes it).",
        ),
    ] = "primary",
) -> None:
    """Publish a replay file's records onto the raw topic, as the ingest replay connector does.

    Records keep the receipt time they were recorded with; bad lines are skipped and reported
    with their line number and reason (docs/replay.md). A progress bar (file read, lines,
    records/s, time left) on a terminal, JSON log lines otherwise. Exit code: 0 when every record
    was published (bad lines skipped), 1 when Kafka failed or had no room for some.

    Example: tickwire replay incident.jsonl.gz --speed max
    """
    env: Env = ctx.obj
    pace = 0.0 if speed == "max" else float(speed)
    _require_ingest("replay")
    from tickwire_core.health import Health
    from tickwire_core.publisher import Publisher
    from tickwire_core.serde import AvroSerde
    from tickwire_ingest.adapters.kafka_sink import KafkaRawSink
    from tickwire_ingest.adapters.replay_file import ReplayFile
    from tickwire_ingest.domain.raw import Envelope
    from tickwire_ingest.domain.replay import Pacer
    from tickwire_ingest.feeds.replay import ReplayFeed

    env.check_kafka()
    topic = env.topic(RAW_TICKS)
    producer = Producer(
        env.kafka_config(
            **{
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "compression.type": "lz4",
                "message.timeout.ms": 0,  # delivery waits for the broker; flush() bounds it
            }
        )
    )
    sink = KafkaRawSink(
        Publisher(producer, AvroSerde()),
        topic,
        Envelope("replay", ingest_instance),
        max_block_s=_MAX_BLOCK_S,
    )
    stop = threading.Event()
    source = ReplayFile(file)
    feed = ReplayFeed(source, Pacer(pace), sink, stop, Health(), threading.Event())
    started = time.monotonic()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        with progress(f"replay {file.name}", total=file.stat().st_size) as reporter:
            shown = {"at": 0.0}

            def show(sent: int, final: bool = False) -> None:
                now = time.monotonic()
                if now - shown["at"] < _PROGRESS_EVERY_S and not final:
                    return
                shown["at"] = now
                rate = sent / max(now - started, 1e-3)
                reporter.advance(
                    source.position - reporter.done,
                    rate=f"{source.lines} lines, {rate:,.0f} records/s",
                    lines=source.lines,
                    records=sent,
                    bad_lines=source.bad_lines,
                )

            sent = feed.play(on_sent=show)
            show(sent, final=True)
    except TickwireError as exc:
        raise CliError(f"replay of {file} onto {topic} failed: {exc}") from None
    finally:
        signal.signal(signal.SIGINT, previous)
    typer.echo(
        f"replayed {sent} records from {file} to {topic} "
        f"({source.lines} lines, {source.bad_lines} bad)"
    )
    lost = sink.stats.rows_refused
    if lost:
        raise CliError(
            f"{lost} records found no room in the producer queue within {_MAX_BLOCK_S:.0f}s; "
            "each stretch of them was published as a backpressure gap",
            hint="is the broker overloaded? replay again with a lower --speed",
        )
    if stop.is_set():
        raise typer.Exit(130)


def record(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(dir_okay=False, help="File to write; .gz is gzip.")],
    topic: Annotated[
        str | None, typer.Option(help="Topic to read (default: the raw topic, with the prefix).")
    ] = None,
    max_records: Annotated[
        int, typer.Option("--max", min=0, help="Stop after N records (0: no limit).")
    ] = 0,
    timeout: Annotated[
        float | None,
        typer.Option(min=0.1, help="Stop once no record has arrived for this many seconds."),
    ] = None,
    start: Annotated[
        str,
        typer.Option(
            "--from",
            help="earliest: all the topic keeps; latest: only what arrives from now on.",
        ),
    ] = "earliest",
) -> None:
    """Copy raw records from Kafka into a replay file, until --max, --timeout or Ctrl-C.

    Reads every partition of the raw topic (committed records only) and commits nothing, so no
    consumer group moves. The file is replaced if it exists; what was written before Ctrl-C is
    kept and the file completed. Records that do not decode are reported and skipped.

    Example: tickwire record incident.jsonl.gz --timeout 10
    """
    env: Env = ctx.obj
    if start not in ("earliest", "latest"):
        raise UsageError(f"--from {start!r}: choose earliest or latest")
    _require_ingest("record")
    from tickwire_core.serde import AvroSerde
    from tickwire_ingest.adapters.replay_file import ReplayWriter
    from tickwire_ingest.record import record as copy_records

    env.check_kafka()
    name = topic or env.topic(RAW_TICKS)
    consumer = Consumer(
        env.kafka_config(
            **{
                # Partitions are assigned directly: the group only names the client.
                "group.id": f"tickwire-record-{uuid.uuid4().hex[:12]}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            }
        )
    )
    try:
        found: Any = consumer.list_topics(name, timeout=10).topics.get(name)
        if found is None or found.error is not None or not found.partitions:
            raise CliError(f"topic {name} not found on {env.bootstrap_servers}")
        offset = OFFSET_BEGINNING if start == "earliest" else OFFSET_END
        consumer.assign([TopicPartition(name, p, offset) for p in found.partitions])
        with (
            ReplayWriter(out) as writer,
            progress(f"record {out.name}", total=max_records or None) as reporter,
        ):
            try:
                copy_records(
                    consumer,
                    AvroSerde(),
                    writer,
                    max_records=max_records,
                    idle_timeout_s=timeout,
                    warn=logger.warning,
                    on_written=lambda _: reporter.advance(1),
                )
            except KeyboardInterrupt:
                pass  # ends a capture: the file is completed on the way out
            except RuntimeError as exc:  # a fatal Kafka error
                raise CliError(f"recording from {name} failed: {exc}") from None
    finally:
        consumer.close()
    typer.echo(f"recorded {writer.written} records from {name} to {out}")


def register(app: typer.Typer) -> None:
    app.command("record", help=help_from(record.__doc__))(record)
    app.command("replay", help=help_from(replay.__doc__))(replay)
