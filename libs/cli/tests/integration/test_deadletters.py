"""`tickwire deadletters summary|redrive` against the real broker and database: counts by day,
source, service and reason; a redrive that reaches the ticks table exactly once through normalize
and the sink; concurrent and repeated runs that never send a record twice."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import DEAD_LETTER, RAW_TICKS, TICKS, tick_key
from tickwire_normalize.app import bootstrap as normalize_loop
from tickwire_normalize.settings import NormalizeSettings
from tickwire_sink.app import bootstrap as sink_loop
from tickwire_sink.settings import SinkSettings
from tickwire_testing.kafka import read_topic
from tickwire_testing.loops import running
from tickwire_testing.processes import wait_for

pytestmark = pytest.mark.integration

SERDE = AvroSerde()
DAY_US = 86_400_000_000


def summary_of(lines: list[dict[str, Any]]) -> dict[str, Any]:
    *_, last = lines
    assert set(last) == {"summary", "dry_run"}
    counts: dict[str, Any] = last["summary"]
    return counts


def ticks_of(database_url: str, instrument: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM ticks WHERE instrument = %s", (instrument,))
        found = row.fetchone()
    assert found is not None
    return int(found[0])


def test_a_redrive_reaches_the_database_exactly_once(
    cli, topics, records, stack, topic_prefix, migrated
) -> None:
    # A quote stamped 400 s after its receipt: beyond normalize's default max_future_s (300 s).
    ahead_us = records.T0_US + 100 + 400_000_000
    late = records.raw_tick(
        records.sim_quote("99.5", "100.5", ahead_us, seq=1, instrument="SIM-LATE"),
        instrument="SIM-LATE",
        seq=1,
    )
    crossed = records.raw_tick(
        records.sim_quote("101", "100", records.T0_US, seq=2, instrument="SIM-X"),
        instrument="SIM-X",
        seq=2,
    )
    good = records.raw_tick(
        records.sim_quote("99", "100", records.T0_US, seq=3, instrument="SIM-OK"),
        instrument="SIM-OK",
        seq=3,
    )
    for raw in (late, crossed, good):
        topics.send(
            RAW_TICKS, SERDE.encode("raw_tick", raw), tick_key("simulator", raw["instrument"])
        )
    kafka = stack.kafka_bootstrap_servers
    normalize = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "topic_prefix": topic_prefix,
        "consumer_group": f"{topic_prefix}normalize",
    }
    with running(lambda h, s: normalize_loop(NormalizeSettings(**normalize), h, s)):
        read_topic(kafka, topic_prefix + DEAD_LETTER, expect=2)

    # The fix: a wider limit for clocks ahead. Normalize goes on from its committed offsets.
    fixed = NormalizeSettings(**normalize, max_future_s=600.0)
    sink = SinkSettings(
        KAFKA_BOOTSTRAP_SERVERS=kafka,
        DATABASE_URL=migrated,
        topic_prefix=topic_prefix,
        consumer_group=f"{topic_prefix}sink",
    )
    with (
        running(lambda h, s: normalize_loop(fixed, h, s)),
        running(lambda h, s: sink_loop(sink, h, s)),
    ):
        wait_for(lambda: ticks_of(migrated, "SIM-OK") == 1, 60, "the good tick in the database")
        assert ticks_of(migrated, "SIM-LATE") == 0

        args = ("deadletters", "redrive", "--reason", "timestamp_out_of_range")
        dry = cli.json_lines(*args, "--dry-run")
        assert [(x["origin"], x["status"]) for x in dry[:-1]] == [
            (f"{topic_prefix}{RAW_TICKS}/0/0", "would send")
        ]
        assert summary_of(dry) == {
            "matched": 1,
            "would_send": 1,
            "already_redriven": 0,
            "unconfirmed": 0,
            "skipped": 0,
        }
        assert summary_of(cli.json_lines(*args)) == {
            "matched": 1,
            "sent": 1,
            "already_redriven": 0,
            "unconfirmed": 0,
            "skipped": 0,
        }
        wait_for(lambda: ticks_of(migrated, "SIM-LATE") == 1, 60, "the redriven tick stored")
        again = cli.json_lines(*args)
        assert summary_of(again)["sent"] == 0 and summary_of(again)["already_redriven"] == 1
        time.sleep(2)  # time for a second copy to arrive, were one sent

    assert ticks_of(migrated, "SIM-LATE") == 1
    raw_topic = topic_prefix + RAW_TICKS
    on_raw = read_topic(kafka, raw_topic, expect=4)
    assert len(on_raw) == 4
    [redriven] = [m for m in on_raw if m.headers()]
    assert (redriven.key(), redriven.value()) == (
        b"simulator|SIM-LATE",
        SERDE.encode("raw_tick", late),
    )
    assert dict(redriven.headers())["tickwire-redrive-origin"] == f"{raw_topic}/0/0".encode()
    assert dict(redriven.headers())["tickwire-redrive-reason"] == b"timestamp_out_of_range"
    with psycopg.connect(migrated) as conn:
        rows = conn.execute(
            "SELECT source_topic, source_offset, reason, service, sent_partition, sent_offset,"
            " sent_at IS NOT NULL FROM deadletter_redrives"
        ).fetchall()
    assert rows == [
        (
            raw_topic,
            0,
            "timestamp_out_of_range",
            "normalize",
            redriven.partition(),
            redriven.offset(),
            True,
        )
    ]


def _letters(records: Any, raw_topic: str, offsets: range) -> list[dict[str, Any]]:
    letters = []
    for offset in offsets:
        raw = records.raw_tick(records.sim_quote("1", "2", records.T0_US, seq=offset), seq=offset)
        payload = SERDE.encode("raw_tick", raw)
        letters.append(
            records.dead_letter(payload, raw_topic, "crossed_market", offset, b"simulator|SIM-A")
        )
    return letters


def test_concurrent_and_repeated_redrives_send_each_record_once(
    cli, topics, records, stack, topic_prefix, migrated
) -> None:
    raw_topic = topic_prefix + RAW_TICKS
    letters = _letters(records, raw_topic, range(100, 140))
    letters.append(letters[0])  # one rejection dead-lettered twice (a retried batch)
    for n, letter in enumerate(letters):
        encoded = SERDE.encode("dead_letter", letter)
        topics.send(DEAD_LETTER, encoded, letter["source_key"], partition=n % 3)

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: cli.json_lines("deadletters", "redrive", "--all"), [1, 2]))
    totals = [summary_of(run) for run in runs]
    assert sum(t["sent"] for t in totals) == 40
    assert sum(t["already_redriven"] for t in totals) == 2 * 41 - 40
    assert all(t["matched"] == 41 and t["unconfirmed"] == 0 for t in totals)

    on_raw = read_topic(stack.kafka_bootstrap_servers, raw_topic, expect=40)
    origins = sorted(dict(m.headers())["tickwire-redrive-origin"].decode() for m in on_raw)
    assert origins == sorted(f"{raw_topic}/2/{offset}" for offset in range(100, 140))

    third = summary_of(cli.json_lines("deadletters", "redrive", "--all"))
    assert (third["sent"], third["already_redriven"]) == (0, 41)


def test_a_claim_never_confirmed_is_reported_not_resent(
    cli, topics, records, stack, topic_prefix, migrated
) -> None:
    raw_topic = topic_prefix + RAW_TICKS
    [letter] = _letters(records, raw_topic, range(7, 8))
    topics.send(DEAD_LETTER, SERDE.encode("dead_letter", letter), letter["source_key"])
    with psycopg.connect(migrated) as conn:  # what a run that crashed after its claim leaves
        conn.execute(
            "INSERT INTO deadletter_redrives (source_topic, source_partition, source_offset,"
            " deadletter_topic, deadletter_partition, deadletter_offset, service, reason,"
            " claimed_by) VALUES (%s, 2, 7, %s, 0, 0, 'normalize', 'crossed_market', 'gone:1')",
            (raw_topic, topic_prefix + DEAD_LETTER),
        )
    done = summary_of(cli.json_lines("deadletters", "redrive", "--all"))
    assert (done["sent"], done["unconfirmed"]) == (0, 1)
    assert read_topic(stack.kafka_bootstrap_servers, raw_topic, expect=0, settle=2) == []


def test_redrive_filters_choose_what_a_dry_run_lists(
    cli, topics, records, topic_prefix, migrated
) -> None:
    raw_topic = topic_prefix + RAW_TICKS
    chosen = [
        # (offset, provider, reason, service, source topic, days before T0)
        (1, "simulator", "crossed_market", "normalize", raw_topic, 0),
        (2, "deribit", "crossed_market", "normalize", raw_topic, 0),
        (3, "simulator", "locked_market", "normalize", raw_topic, 0),
        (4, "simulator", "crossed_market", "normalize", raw_topic, 2),
        (5, "simulator", "db_refused", "sink", topic_prefix + TICKS, 0),
        (6, "simulator", "crossed_market", "normalize", "elsewhere.raw", 0),
    ]
    for offset, provider, reason, service, source, days in chosen:
        letter = records.dead_letter(b"x", source, reason, offset, f"{provider}|SIM-A".encode())
        letter.update(service=service, rejected_ts=records.T0_US - days * DAY_US)
        topics.send(DEAD_LETTER, SERDE.encode("dead_letter", letter), letter["source_key"])

    def listed(*args: str) -> list[tuple[int, str]]:
        lines = cli.json_lines("deadletters", "redrive", "--dry-run", *args)
        return sorted((int(x["origin"].rsplit("/", 1)[1]), x["status"]) for x in lines[:-1])

    since = (records.T0.replace(hour=0) - timedelta(days=1)).isoformat()
    assert listed("--provider", "deribit") == [(2, "would send")]
    assert listed("--reason", "locked_market", "--reason", "db_refused") == [
        (3, "would send"),
        (5, "would send"),
    ]
    assert listed("--source-topic", "ticks") == [(5, "would send")]
    assert listed("--service", "sink") == [(5, "would send")]
    assert listed("--reason", "crossed_market", "--until", since) == [(4, "would send")]
    assert listed("--reason", "crossed_market", "--since", since) == [
        (1, "would send"),
        (2, "would send"),
        (6, "skipped: elsewhere.raw is not a topic of this pipeline"),
    ]
    # A dry run sends nothing and claims nothing.
    with psycopg.connect(migrated) as conn:
        assert conn.execute("SELECT count(*) FROM deadletter_redrives").fetchone() == (0,)


def test_summary_counts_by_day_source_service_and_reason(
    cli, topics, records, topic_prefix
) -> None:
    raw_topic = topic_prefix + RAW_TICKS
    ticks_topic = topic_prefix + TICKS
    sent = [
        # (source, offset, reason, service, days before T0)
        (raw_topic, 1, "crossed_market", "normalize", 0),
        (raw_topic, 2, "crossed_market", "normalize", 0),
        (raw_topic, 2, "crossed_market", "normalize", 0),  # the same rejection twice: once
        (raw_topic, 3, "undecodable", "normalize", 0),
        (raw_topic, 4, "crossed_market", "normalize", 1),
        (ticks_topic, 5, "db_refused", "sink", 0),
    ]
    for source, offset, reason, service, days in sent:
        letter = records.dead_letter(b"x", source, reason, offset, None)
        letter.update(service=service, rejected_ts=records.T0_US - days * DAY_US)
        topics.send(DEAD_LETTER, SERDE.encode("dead_letter", letter), None)
    today = records.T0.date().isoformat()
    yesterday = (records.T0.date() - timedelta(days=1)).isoformat()

    def row(day: str, source: str, service: str, reason: str, count: int) -> dict[str, Any]:
        return {
            "day": day,
            "source_topic": source,
            "service": service,
            "reason": reason,
            "count": count,
        }

    assert cli.json_lines("deadletters", "summary") == [
        row(yesterday, raw_topic, "normalize", "crossed_market", 1),
        row(today, ticks_topic, "sink", "db_refused", 1),
        row(today, raw_topic, "normalize", "crossed_market", 2),
        row(today, raw_topic, "normalize", "undecodable", 1),
    ]
    table = cli("deadletters", "summary", "--output", "table")
    assert table.returncode == 0, table.stderr
    assert "dead letters: 5" in table.stdout
    cells = [
        [cell.strip() for cell in line.split("│")[3:6]]
        for line in table.stdout.splitlines()
        if "db_refused" in line
    ]
    assert cells == [["sink", "db_refused", "1"]]
    assert cli.json_lines("deadletters", "summary", "--since", f"{today}T00:00:00Z") == [
        row(today, ticks_topic, "sink", "db_refused", 1),
        row(today, raw_topic, "normalize", "crossed_market", 2),
        row(today, raw_topic, "normalize", "undecodable", 1),
    ]


def test_redrive_needs_its_table_and_a_reachable_database(
    cli, closed_port, database_url: str
) -> None:
    done = cli("deadletters", "redrive", "--all")  # the test's database, never migrated
    assert done.returncode == 1
    [message] = done.stderr.strip().splitlines()
    host = psycopg.conninfo.conninfo_to_dict(database_url)["host"]
    assert message.startswith(f"tickwire: error: the database at {host}:")
    assert message.endswith(
        "has no deadletter_redrives table (hint: apply the migrations first: `tickwire migrate`)"
    )

    url = f"postgresql://tickwire@127.0.0.1:{closed_port}/tickwire"
    done = cli("--database-url", url, "deadletters", "redrive", "--all")
    assert done.returncode == 1
    [message] = done.stderr.strip().splitlines()
    assert message.startswith(
        f"tickwire: error: cannot reach the database at 127.0.0.1:{closed_port}/tickwire: "
    )
