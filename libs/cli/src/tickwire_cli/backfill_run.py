"""Running backfill jobs for `tickwire backfill`: plan each job against the stored watermarks,
then drive its source step by step onto the raw topic, and count what the pipeline made of it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Producer

from tickwire_cli.backfill_view import bars, show_plan, show_results
from tickwire_cli.context import Env
from tickwire_cli.errors import CliError, UsageError
from tickwire_cli.job_runs import JobRun
from tickwire_cli.settlement import Settlement, normalize_mapper
from tickwire_core.clock import now_us
from tickwire_core.publisher import Publisher
from tickwire_core.serde import AvroSerde
from tickwire_ingest.adapters.history.sources import SourceNotAvailable, build_source
from tickwire_ingest.adapters.history.store import FAILED, INTERRUPTED, BackfillStore
from tickwire_ingest.backfill import Backfill, HistorySink, Outcome
from tickwire_ingest.domain.history.config import Job
from tickwire_ingest.domain.history.pages import HistorySource
from tickwire_ingest.domain.history.plan import PlanError, Step, choose_dataset, make_plan
from tickwire_ingest.history_settings import HistorySettings

logger = logging.getLogger("tickwire.cli.backfill")

EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Options:
    dry_run: bool
    wait: bool
    wait_timeout_s: float
    topic: str


def earliest(source: HistorySource, dataset: str) -> int:
    """Where a first run starts without --since: the source's `earliest(dataset)` if it has one,
    else the Unix epoch (the vendor then answers from its first row)."""
    first = getattr(source, "earliest", None)
    value = first(dataset) if callable(first) else None
    return int(value) if value is not None else 0


def plan_job(store: BackfillStore, settings: HistorySettings, job: Job) -> tuple[Any, list[Step]]:
    """The source and its steps, or UsageError saying what is wrong with the job."""
    try:
        source = build_source(job.source, settings)
        dataset = choose_dataset(job.source, source.datasets(), job.interval, job.trades)
        grouped = bool(getattr(source, "grouped", False))
        if not job.instruments and not grouped:
            raise PlanError(f"{job.source}: name instruments (--instruments or --instruments-file)")
        steps = make_plan(
            source=job.source,
            grouped=grouped,
            dataset=dataset,
            instruments=job.instruments,
            since=job.since,
            until=job.until,
            now=now_us(),
            earliest=earliest(source, dataset),
            watermarks=store.watermarks(job.source, dataset),
            restart=job.restart,
        )
    except (SourceNotAvailable, PlanError) as exc:
        raise UsageError(str(exc)) from None
    return source, steps


def _producer(env: Env) -> Producer:
    # Idempotent: a retry inside librdkafka never writes a row twice onto the topic.
    return Producer(
        env.kafka_config(
            **{
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 20,
                "compression.type": "lz4",
            }
        )
    )


@contextmanager
def opened_store(env: Env) -> Iterator[BackfillStore]:
    """The backfill tables on the command's database, or one line saying to migrate first."""
    with env.connect_db(autocommit=True, application_name="tickwire-backfill") as conn:
        store = BackfillStore(conn)
        missing = store.missing_tables()
        if missing:
            raise CliError(
                f"the database at {env.database_display()} has no {missing[0]} table",
                hint="apply the migrations first: `tickwire migrate`",
            )
        yield store


def run_jobs(
    env: Env,
    settings: HistorySettings,
    jobs: Sequence[Job],
    options: Options,
    stop: threading.Event,
    run: JobRun,
) -> int:
    """Run the jobs; the exit code, and in `run` the records published and, when an instrument
    failed, which."""
    with opened_store(env) as store:
        plans = [plan_job(store, settings, job) for job in jobs]
        if options.dry_run:
            show_plan([step for _, steps in plans for step in steps])
            return 0
        admin = env.check_kafka()
        if options.topic not in admin.list_topics(timeout=10).topics:
            raise CliError(
                f"topic {options.topic} not found on {env.bootstrap_servers}",
                hint="create the topics first: `tickwire topics create`",
            )
        producer = _producer(env)
        sink = HistorySink(Publisher(producer, AvroSerde()), options.topic)
        mapper = normalize_mapper() if options.wait else None
        if options.wait and mapper is None:
            logger.warning("normalize is not installed here: not waiting for the pipeline")
        settlement = Settlement(store.conn, mapper) if mapper is not None else None
        outcomes: list[Outcome] = []
        with bars() as view:
            for source, steps in plans:
                driver = Backfill(source, sink, store, stop, watch=settlement, on_page=view.page)
                for step in steps:
                    if stop.is_set():
                        break
                    view.start(step)
                    outcome = driver.run(step)
                    view.done(outcome)
                    outcomes.append(outcome)
                    if outcome.status == FAILED:
                        logger.error(
                            "backfill %s %s %s failed: %s",
                            step.source,
                            step.dataset,
                            step.instrument,
                            outcome.error,
                        )
                close = getattr(source, "close", None)
                if callable(close):
                    close()
        tallies = None
        if settlement is not None and not stop.is_set():
            fetched = {o.step: o.fetched for o in outcomes}
            tallies = settlement.wait(fetched, options.wait_timeout_s)
            for outcome in outcomes:
                tally = tallies.get(outcome.step)
                if tally is not None and outcome.run_id is not None:
                    store.settled(
                        outcome.run_id, tally.stored, tally.already_present, tally.rejected
                    )
        show_results(outcomes, tallies)
    run.rows = sum(o.published for o in outcomes)
    failed = [o for o in outcomes if o.status == FAILED]
    if failed:
        run.error = f"{len(failed)} of {len(outcomes)} failed: " + "; ".join(
            f"{o.step.source} {o.step.instrument}: {o.error}" for o in failed
        )
    if stop.is_set() or any(o.status == INTERRUPTED for o in outcomes):
        return EXIT_INTERRUPTED
    return 1 if failed else 0
