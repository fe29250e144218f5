"""`tickwire backfill` against the real broker and database, with a history source made up in
the test (fake_history.py): rows land on the raw topic as history records, watermarks are
stored, a rerun publishes nothing, a run killed with SIGKILL and rerun ends like a clean one,
--dry-run publishes nothing, one failing instrument leaves the others done, and without a
pipeline every record is reported pending once the wait runs out."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import RAW_TICKS

pytestmark = pytest.mark.integration

LAUNCHER = str(Path(__file__).with_name("fake_history.py"))
DAY_US = 86_400_000_000
JAN_1 = datetime(2024, 1, 1, tzinfo=UTC)
JAN_21 = datetime(2024, 1, 21, tzinfo=UTC)
RANGE = ["--since", "2024-01-01", "--until", "2024-01-21"]  # 20 days: 10 pages an instrument


class Backfill:
    """The command, run as a user runs it, with the fake source added."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str, page_s: float = 0.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, LAUNCHER, "backfill", *args],
            capture_output=True,
            text=True,
            timeout=180,
            env={**self.env, "FAKE_HISTORY_PAGE_S": str(page_s)},
        )

    def start(self, *args: str, page_s: float) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, LAUNCHER, "backfill", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**self.env, "FAKE_HISTORY_PAGE_S": str(page_s)},
        )


@pytest.fixture
def backfill(cli: Any, migrated: str) -> Backfill:
    return Backfill(cli.env)


def lines(done: subprocess.CompletedProcess[str], code: int = 0) -> list[dict[str, Any]]:
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def raw_records(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every record of the topic, decoded."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "t", "enable.auto.commit": False}
    )
    try:
        records = []
        for p in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high == low:
                continue
            consumer.assign([TopicPartition(topic, p, low)])
            while True:
                message = consumer.poll(10)
                assert message is not None and message.error() is None
                records.append(AvroSerde().decode("raw_tick", message.value()))
                if message.offset() == high - 1:
                    break
        return records
    finally:
        consumer.close()


def days(records: list[dict[str, Any]]) -> Counter[tuple[str, int]]:
    """How often each (instrument, day) was published."""
    return Counter(
        (r["instrument"], json.loads(r["payload"])["ts"] * 1000 // DAY_US) for r in records
    )


def watermarks(url: str) -> dict[str, datetime]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT instrument, watermark_ts FROM backfill_watermarks"
            " WHERE source = 'fake' AND dataset = 'ohlcv:1d'"
        ).fetchall()
    return dict(rows)


def runs(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT instrument, status, pages, fetched, published, error FROM backfill_runs"
            " ORDER BY id"
        ).fetchall()


FIRST_DAY = int(JAN_1.timestamp()) * 1_000_000 // DAY_US
ALL_DAYS = {(name, FIRST_DAY + d) for name in ("AAA", "BBB") for d in range(20)}


def test_a_backfill_publishes_history_records_and_stores_each_watermark(
    backfill, stack, topic_prefix, migrated
) -> None:
    results = lines(backfill("fake", "--instruments", "AAA,BBB", *RANGE, "--no-wait"))
    assert [(r["instrument"], r["status"], r["pages"], r["published"]) for r in results] == [
        ("AAA", "done", 10, 20),
        ("BBB", "done", 10, 20),
    ]
    records = raw_records(stack.kafka_bootstrap_servers, topic_prefix + RAW_TICKS)
    assert set(days(records)) == ALL_DAYS and max(days(records).values()) == 1
    assert {(r["provider"], r["feed"], r["history"], r["ingest_instance"]) for r in records} == {
        ("fake", "ohlcv:1d", True, "backfill")
    }
    assert watermarks(migrated) == {"AAA": JAN_21, "BBB": JAN_21}
    assert runs(migrated) == [
        ("AAA", "done", 10, 20, 20, None),
        ("BBB", "done", 10, 20, 20, None),
    ]

    # A second run finds both up to date: it fetches and publishes nothing.
    again = lines(backfill("fake", "--instruments", "AAA,BBB", *RANGE, "--no-wait"))
    assert [(r["status"], r["published"]) for r in again] == [("up to date", 0)] * 2
    assert len(raw_records(stack.kafka_bootstrap_servers, topic_prefix + RAW_TICKS)) == 40

    # A later --until fetches only the days after the watermark.
    later = lines(backfill("fake", "--instruments", "AAA", "--until", "2024-01-25", "--no-wait"))
    assert [(r["instrument"], r["published"]) for r in later] == [("AAA", 4)]
    records = raw_records(stack.kafka_bootstrap_servers, topic_prefix + RAW_TICKS)
    assert len(records) == 44 and max(days(records).values()) == 1


def test_a_run_killed_mid_way_and_rerun_ends_like_a_clean_run(
    backfill, stack, topic_prefix, migrated
) -> None:
    process = backfill.start("fake", "--instruments", "AAA,BBB", *RANGE, "--no-wait", page_s=0.4)
    deadline = time.monotonic() + 60
    while not watermarks(migrated).get("AAA") and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # a few more pages, one of them in hand
    process.kill()
    process.communicate(timeout=30)
    killed = watermarks(migrated)
    assert killed.get("AAA") is not None and killed["AAA"] < JAN_21, killed
    assert "BBB" not in killed  # it had not started
    assert runs(migrated)[0][1] == "running"  # what SIGKILL leaves in the run log

    rerun = lines(backfill("fake", "--instruments", "AAA,BBB", *RANGE, "--no-wait"))
    assert [r["status"] for r in rerun] == ["done", "done"]
    assert watermarks(migrated) == {"AAA": JAN_21, "BBB": JAN_21}
    records = raw_records(stack.kafka_bootstrap_servers, topic_prefix + RAW_TICKS)
    published = days(records)
    assert set(published) == ALL_DAYS  # every row at least once
    # Published twice: at most what the killed run sent after its last watermark.
    killed_day = int(killed["AAA"].timestamp()) * 1_000_000 // DAY_US
    assert all(day >= killed_day for (name, day), n in published.items() if n > 1)
    assert rerun[0]["published"] == (FIRST_DAY + 20) - killed_day


def test_sigterm_stops_after_the_page_in_hand_and_marks_the_run_interrupted(
    backfill, migrated
) -> None:
    process = backfill.start("fake", "--instruments", "AAA", *RANGE, "--no-wait", page_s=0.4)
    deadline = time.monotonic() + 60
    while not watermarks(migrated).get("AAA") and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    [result] = [json.loads(line) for line in out.splitlines()]
    [(_, status, pages, _, published, _)] = runs(migrated)
    assert (result["status"], status) == ("interrupted", "interrupted")
    assert 0 < pages < 10 and published == 2 * pages
    # The watermark is the end of the last page published.
    assert watermarks(migrated)["AAA"].timestamp() == JAN_1.timestamp() + pages * 2 * 86_400


def test_dry_run_prints_the_plan_and_publishes_nothing(
    backfill, stack, topic_prefix, migrated
) -> None:
    lines(backfill("fake", "--instruments", "AAA", "--since", "2024-01-01", "--until",
                   "2024-01-05", "--no-wait"))  # fmt: skip
    plan = lines(backfill("fake", "--instruments", "AAA,BBB", *RANGE, "--dry-run"))
    assert plan == [
        {"source": "fake", "dataset": "ohlcv:1d", "instrument": "AAA",
         "from": "2024-01-05T00:00:00+00:00", "to": "2024-01-21T00:00:00+00:00",
         "watermark": "2024-01-05T00:00:00+00:00", "action": "fetch"},
        {"source": "fake", "dataset": "ohlcv:1d", "instrument": "BBB",
         "from": "2024-01-01T00:00:00+00:00", "to": "2024-01-21T00:00:00+00:00",
         "watermark": None, "action": "fetch"},
    ]  # fmt: skip
    assert len(raw_records(stack.kafka_bootstrap_servers, topic_prefix + RAW_TICKS)) == 4
    assert watermarks(migrated) == {"AAA": datetime(2024, 1, 5, tzinfo=UTC)}
    assert len(runs(migrated)) == 1


def test_a_config_file_runs_every_job_and_a_failing_instrument_fails_alone(
    backfill, migrated, tmp_path
) -> None:
    config = tmp_path / "nightly.toml"
    config.write_text(
        '[[job]]\nsource = "fake"\ninstruments = ["AAA", "NOPE"]\nsince = 2024-01-01\n'
        'until = 2024-01-05\n\n[[job]]\nsource = "fake"\ninstruments = "BBB"\n'
        'since = "2024-01-03"\nuntil = "2024-01-05"\n'
    )
    done = backfill("--config", str(config), "--no-wait")
    results = lines(done, code=1)
    assert [(r["instrument"], r["status"], r["published"]) for r in results] == [
        ("AAA", "done", 4),
        ("NOPE", "failed", 0),
        ("BBB", "done", 2),
    ]
    assert results[1]["error"] == "fake: no instrument NOPE"
    assert "fake: no instrument NOPE" in done.stderr
    logged = lines(backfill("runs"))
    assert [(r["instrument"], r["status"], r["error"]) for r in logged] == [
        ("BBB", "done", None),
        ("NOPE", "failed", "fake: no instrument NOPE"),
        ("AAA", "done", None),
    ]


def test_usage_mistakes_are_one_line_with_code_2(backfill) -> None:
    for args, named in [
        (["fake"], "name instruments"),
        (["fake", "--instruments", "A", "--interval", "2d"], "--interval '2d'"),
        (["fake", "--instruments", "A", "--trades"], "fake does not serve trades"),
        (["nosuch", "--instruments", "A"], "unknown source 'nosuch'"),
        (["fake", "--instruments", "A", "--since", "soon"], "--since 'soon'"),
        ([], "name a SOURCE or a --config file"),
    ]:
        done = backfill(*args, "--dry-run")
        assert done.returncode == 2, (args, done.stderr)
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("tickwire: error: ") and named in line, (args, line)


def test_without_a_pipeline_every_record_stays_pending_until_the_wait_runs_out(
    backfill, migrated
) -> None:
    started = time.monotonic()
    done = backfill("fake", "--instruments", "AAA", "--since", "2024-01-01", "--until",
                    "2024-01-05", "--wait-timeout", "2")  # fmt: skip
    [result] = lines(done)
    assert time.monotonic() - started >= 2
    counts = ("published", "stored", "already_present", "rejected", "pending")
    assert [result[k] for k in counts] == [4, 0, 0, {}, 4]
    with psycopg.connect(migrated) as conn:
        logged = conn.execute(
            "SELECT stored, already_present, rejected FROM backfill_runs"
        ).fetchall()
    assert logged == [(0, 0, {})]


def test_a_missing_raw_topic_is_one_line_before_anything_is_fetched(backfill, migrated) -> None:
    env = {**backfill.env, "TICKWIRE_TOPIC_PREFIX": "nosuchprefix."}
    done = Backfill(env)("fake", "--instruments", "AAA", *RANGE, "--no-wait")
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == (
        "tickwire: error: topic nosuchprefix.tickwire.ticks.raw not found on "
        f"{env['KAFKA_BOOTSTRAP_SERVERS']} "
        "(hint: create the topics first: `tickwire topics create`)"
    )
    assert runs(migrated) == [] and watermarks(migrated) == {}


def test_restart_fetches_again_and_never_moves_the_watermark_back(
    backfill, stack, topic_prefix, migrated
) -> None:
    lines(backfill("fake", "--instruments", "AAA", *RANGE, "--no-wait"))
    again = lines(backfill("fake", "--instruments", "AAA", "--since", "2024-01-01", "--until",
                           "2024-01-05", "--restart", "--no-wait"))  # fmt: skip
    assert [(r["status"], r["published"], r["watermark"]) for r in again] == [
        ("done", 4, "2024-01-21T00:00:00+00:00")
    ]
    assert watermarks(migrated) == {"AAA": JAN_21}
    published = days(raw_records(stack.kafka_bootstrap_servers, topic_prefix + RAW_TICKS))
    assert [published[("AAA", FIRST_DAY + d)] for d in (0, 3, 4)] == [2, 2, 1]
