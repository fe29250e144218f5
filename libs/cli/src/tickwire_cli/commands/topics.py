"""`tickwire topics`: the topic table (schemas/topics.toml) against a broker."""

from __future__ import annotations

from typing import Annotated

import typer

from tickwire_cli.context import Env
from tickwire_core.topics import create_topics

topics_app = typer.Typer(
    help="Create, check and describe the topics of the topic table.\n\n"
    "Example: tickwire topics create --replication-factor 3",
    no_args_is_help=True,
)


@topics_app.command("create")
def create(
    ctx: typer.Context,
    replication_factor: Annotated[int, typer.Option(min=1, help="Replicas of each new topic.")] = 1,
) -> None:
    """Create the missing topics; existing ones are left as they are.

    Example: KAFKA_BOOTSTRAP_SERVERS=kafka:9092 tickwire topics create
    """
    env: Env = ctx.obj
    env.check_kafka()
    created = create_topics(
        env.bootstrap_servers,
        replication_factor=replication_factor,
        prefix=env.topic_prefix,
        client_config=env.kafka_client_config,
    )
    typer.echo("created: " + (", ".join(sorted(created)) if created else "nothing (all exist)"))


def register(app: typer.Typer) -> None:
    app.add_typer(topics_app, name="topics")
