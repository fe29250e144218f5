"""`tickwire topics`: the topic table (schemas/topics.toml) against a broker: create what is
missing, check what differs, describe what is there."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Annotated, Any, TypeVar

import typer
from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, OffsetSpec, ResourceType

from tickwire_cli.context import Env
from tickwire_cli.errors import CliError
from tickwire_cli.job_runs import JobRun, job_run
from tickwire_cli.output import help_from, print_json_line, print_table, stdout_is_terminal
from tickwire_core.topics import Topic, create_topics, load_topics

topics_app = typer.Typer(
    help="Create, check and describe the topics of the topic table.\n\n"
    "Example: tickwire topics create --replication-factor 3",
    no_args_is_help=True,
)

_TIMEOUT_S = 30.0
# Both create and check are logged in job_runs under this job. They need no database otherwise,
# so without one they run unlogged, saying so only when a database was named.
JOB = "topics-check"


def _logged(env: Env, arguments: dict[str, object]) -> AbstractContextManager[JobRun]:
    return job_run(env.database_url, JOB, arguments, required=False, warn=env.database_named)


@dataclass(frozen=True)
class Found:
    """A topic as the broker has it."""

    name: str
    partitions: int
    config: dict[str, str]


def table(env: Env) -> list[Topic]:
    return [replace(t, name=env.topic(t.name)) for t in load_topics()]


K = TypeVar("K")


def _wait(futures: Mapping[K, Future[Any]], what: str) -> dict[K, Any]:
    results = {}
    for key, future in futures.items():
        try:
            results[key] = future.result()
        except KafkaException as exc:
            raise CliError(f"{what}: {exc.args[0].str()}") from None
    return results


def find(admin: AdminClient, names: list[str]) -> dict[str, Found]:
    """Those of `names` the broker has, with their partition count and topic configs."""
    metadata = admin.list_topics(timeout=_TIMEOUT_S).topics
    present = [n for n in names if n in metadata and metadata[n].error is None]
    if not present:
        return {}
    resources = [ConfigResource(ResourceType.TOPIC, name) for name in present]
    configs = _wait(
        admin.describe_configs(resources, request_timeout=_TIMEOUT_S), "describing topic configs"
    )
    found = {}
    for resource, entries in configs.items():
        name = resource.name
        config = {k: str(v.value) for k, v in entries.items()}
        found[name] = Found(name, len(metadata[name].partitions), config)
    return found


def mismatches(expected: list[Topic], found: dict[str, Found]) -> list[str]:
    """Each way the broker differs from the topic table, one sentence each."""
    problems = []
    for topic in expected:
        have = found.get(topic.name)
        if have is None:
            problems.append(f"{topic.name}: missing")
            continue
        if have.partitions != topic.partitions:
            problems.append(
                f"{topic.name}: {have.partitions} partitions, the topic table says "
                f"{topic.partitions}"
            )
        for key, value in topic.config().items():
            if have.config.get(key) != value:
                problems.append(
                    f"{topic.name}: {key}={have.config.get(key)}, the topic table says {value}"
                )
    return problems


def create(
    ctx: typer.Context,
    replication_factor: Annotated[int, typer.Option(min=1, help="Replicas of each new topic.")] = 1,
) -> None:
    """Create the missing topics; existing ones are left as they are.

    A topic that exists with another partition count than the table's is an error (exit 1).
    The run is logged in job_runs as job `topics-check` (rows: topics created) when the database
    can be reached; without it the command runs unlogged.

    Example: KAFKA_BOOTSTRAP_SERVERS=kafka:9092 tickwire topics create
    """
    env: Env = ctx.obj
    arguments = {"action": "create", "replication_factor": replication_factor}
    with _logged(env, arguments) as run:
        env.check_kafka()
        created = create_topics(
            env.bootstrap_servers,
            replication_factor=replication_factor,
            prefix=env.topic_prefix,
            client_config=env.kafka_client_config,
        )
        run.rows = len(created)
    typer.echo("created: " + (", ".join(sorted(created)) if created else "nothing (all exist)"))


def check(ctx: typer.Context) -> None:
    """Compare the broker's topics with the topic table.

    Missing topics, partition counts, cleanup.policy and retention.ms: each difference is printed
    on a line of its own (JSON lines when piped) and the command exits 1; 0 when all match. The
    run is logged in job_runs as job `topics-check` (rows: topics compared) when the database can
    be reached; without it the command runs unlogged.

    Example: tickwire topics check || tickwire topics create
    """
    env: Env = ctx.obj
    with _logged(env, {"action": "check"}) as run:
        admin = env.check_kafka()
        expected = table(env)
        problems = mismatches(expected, find(admin, [t.name for t in expected]))
        run.rows = len(expected)
        for problem in problems:
            if stdout_is_terminal():
                typer.echo(problem)
            else:
                topic, _, what = problem.partition(": ")
                print_json_line({"topic": topic, "mismatch": what})
        if problems:
            raise CliError(
                f"{len(problems)} differences between {env.bootstrap_servers} and the topic table",
                hint="`tickwire topics create` adds missing topics; other differences need an "
                "operator (kafka-configs, or recreate the topic)",
            )
    typer.echo(f"ok: the {len(expected)} topics match the topic table", err=True)


def describe(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Topics of the table, without prefix (default: all of them)."),
    ] = None,
) -> None:
    """Show each topic's partitions, configs and per-partition low/high offsets.

    The message count of a partition is high minus low offset (transaction markers take offsets
    too, so it can count a few more than there are records). A table on a terminal, one JSON
    object per topic when piped.

    Example: tickwire topics describe tickwire.ticks.raw
    """
    env: Env = ctx.obj
    admin = env.check_kafka()
    expected = table(env)
    if names:
        known = {t.name for t in expected}
        unknown = [n for n in names if env.topic(n) not in known]
        if unknown:
            raise CliError(
                f"not in the topic table: {', '.join(unknown)}",
                hint="names as in schemas/topics.toml",
                code=2,
            )
        expected = [t for t in expected if t.name in {env.topic(n) for n in names}]
    found = find(admin, [t.name for t in expected])
    partitions = [TopicPartition(f.name, p) for f in found.values() for p in range(f.partitions)]
    low = _offsets(admin, partitions, OffsetSpec.earliest())  # type: ignore[no-untyped-call]
    high = _offsets(admin, partitions, OffsetSpec.latest())  # type: ignore[no-untyped-call]
    records: list[dict[str, Any]] = []
    for topic in expected:
        have = found.get(topic.name)
        if have is None:
            records.append({"topic": topic.name, "missing": True})
            continue
        offsets = [
            {"partition": p, "low": low[(topic.name, p)], "high": high[(topic.name, p)]}
            for p in range(have.partitions)
        ]
        records.append(
            {
                "topic": topic.name,
                "partitions": have.partitions,
                "cleanup.policy": have.config.get("cleanup.policy"),
                "retention.ms": have.config.get("retention.ms"),
                "messages": sum(o["high"] - o["low"] for o in offsets),
                "offsets": offsets,
            }
        )
    if not stdout_is_terminal():
        for record in records:
            print_json_line(record)
        return
    print_table(
        f"topics on {env.bootstrap_servers}",
        ["topic", "partitions", "cleanup.policy", "retention.ms", "messages", "low-high"],
        [
            [r["topic"], "missing"]
            if r.get("missing")
            else [
                r["topic"],
                r["partitions"],
                r["cleanup.policy"],
                r["retention.ms"],
                r["messages"],
                " ".join(f"{o['partition']}:{o['low']}-{o['high']}" for o in r["offsets"]),
            ]
            for r in records
        ],
    )


def _offsets(
    admin: AdminClient, partitions: list[TopicPartition], spec: OffsetSpec
) -> dict[tuple[str, int], int]:
    if not partitions:
        return {}
    results = _wait(
        admin.list_offsets({tp: spec for tp in partitions}, request_timeout=_TIMEOUT_S),
        "listing offsets",
    )
    return {(tp.topic, tp.partition): int(info.offset) for tp, info in results.items()}


def register(app: typer.Typer) -> None:
    for name, command in (("create", create), ("check", check), ("describe", describe)):
        topics_app.command(name, help=help_from(command.__doc__))(command)
    app.add_typer(topics_app, name="topics")
