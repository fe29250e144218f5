"""A live-fed day and a backfilled day, end to end, into the quality report, the lake and the job
log: a primary and a replica instance publish a day of updates (the replica's copies, rejects and a
gap among them) and `tickwire backfill` a vendor's hourly bars, through normalize and the sink
(processes, real broker and database); `tickwire quality` reports exactly what was injected;
`tickwire lake export` writes both days to a local folder and to the S3 store, read back with
DuckDB equal to the database row for row; every run is in /v1/jobs."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import RAW_TICKS, tick_key
from tickwire_ingest.domain.events import DISCONNECT, GAP_CONTENT_TYPE, GAP_FEED, Gap
from tickwire_ingest.domain.raw import Envelope
from tickwire_ingest.domain.simulator import SimConfig, Simulator, parse_instruments
from tickwire_jobs.domain.lake_kinds import KINDS
from tickwire_testing import vendors
from tickwire_testing.expected import iso
from tickwire_testing.history import HistoryPipeline
from tickwire_testing.kafka import produce
from tickwire_testing.lake import database_rows, local_lake_rows, s3_lake_rows
from tickwire_testing.objectstore import S3Bucket
from tickwire_testing.processes import wait_for

pytestmark = pytest.mark.e2e

# Yesterday (UTC): a whole day in the past, and young enough for the live feed's age check.
LIVE_DAY = datetime.now(UTC).date() - timedelta(days=1)
MIDNIGHT_US = int(datetime.combine(LIVE_DAY, datetime.min.time(), UTC).timestamp() * 1e6)
N = 1_200  # venue updates, one every 60 s from 01:00: all within the day
REPLICA_HOLE = range(400, 550)  # updates the replica never received
HOUR_US = 3_600_000_000
GAP = Gap("L-A", DISCONNECT, MIDNIGHT_US + 5 * HOUR_US, MIDNIGHT_US + 5 * HOUR_US + 90_000_000)
UNREADABLE = 4  # frames of L-A that are not JSON
CROSSED = 3  # quotes of L-B with the bid above the ask

# The stack's own set-up (topics, migrations) may log runs too; the test counts its commands'.
SET_UP_JOBS = ("migrate", "topics-check")

BACKFILLED_DAY = date(2024, 3, 1)  # the first day of Binance's hourly kline fixtures
H = vendors.HOUR_MS
T0 = 1_709_251_200_000  # that day's midnight, ms
BN_UNTIL_MS = T0 + 1003 * H  # the two kline pages: 1000 + 3 hours


def live_records(serde: AvroSerde) -> tuple[list[tuple[bytes, bytes]], dict[str, Counter[str]]]:
    """Both instances' raw records as they reach the topic, and what each instrument's day should
    then report: its stored ticks by kind and the copies the replica sent."""
    sim = Simulator(SimConfig(parse_instruments("L-A:100,L-B:20"), seed=13))
    primary, replica = Envelope("simulator", "primary"), Envelope("simulator", "replica")
    records: list[tuple[bytes, bytes]] = []
    facts: dict[str, Counter[str]] = {"L-A": Counter(), "L-B": Counter()}

    def send(
        envelope: Envelope, feed: str, instrument: str, payload: bytes, ts: int, **kw: Any
    ) -> None:
        record = envelope.wrap(feed, instrument, payload, ts, **kw)
        records.append((tick_key("simulator", instrument), serde.encode("raw_tick", record)))

    for i in range(N):
        ts = MIDNIGHT_US + HOUR_US + i * 60_000_000
        msg = sim.next_message(ts)
        facts[msg.instrument]["quote" if msg.feed == "quotes" else "trade"] += 1
        send(primary, msg.feed, msg.instrument, msg.payload, ts + 200)
        if i not in REPLICA_HOLE:
            facts[msg.instrument]["duplicates"] += 1
            send(replica, msg.feed, msg.instrument, msg.payload, ts + 500)
    for k in range(UNREADABLE):
        send(primary, "quotes", "L-A", b'{"type": "quote", "instrum', MIDNIGHT_US + 2 * HOUR_US + k)
    for k in range(CROSSED):
        body = {
            "type": "quote",
            "instrument": "L-B",
            "ts": MIDNIGHT_US + 3 * HOUR_US + k,
            "seq": 1_000_000 + k,
            "bid": "101.00",
            "bid_size": "1.0000",
            "ask": "100.00",
            "ask_size": "1.0000",
        }
        send(primary, "quotes", "L-B", json.dumps(body).encode(), MIDNIGHT_US + 3 * HOUR_US + k)
    send(primary, GAP_FEED, "L-A", GAP.payload(), GAP.end_ts, content_type=GAP_CONTENT_TYPE)
    return records, facts


def stored_live(history: HistoryPipeline) -> tuple[int, int, int, int]:
    [row] = history.rows(
        "SELECT (SELECT count(*) FROM ticks WHERE provider = 'simulator' AND kind <> 'gap'),"
        " (SELECT count(*) FROM ticks WHERE provider = 'simulator' AND kind = 'gap'),"
        " (SELECT coalesce(sum(duplicates), 0) FROM dedup_tallies WHERE provider = 'simulator'),"
        " (SELECT count(*) FROM rejects WHERE provider = 'simulator')"
    )
    return tuple(int(v) for v in row)  # type: ignore[return-value]


def quality_row(history: HistoryPipeline, instrument: str) -> dict[str, Any]:
    columns = (
        "ticks",
        "quotes",
        "trades",
        "duplicates",
        "rejects",
        "rejects_by_reason",
        "gaps",
        "gap_seconds",
        "gaps_by_reason",
        "first_tick",
        "last_tick",
    )
    [row] = history.rows(
        f"SELECT {', '.join(columns)} FROM quality_daily"
        " WHERE provider = 'simulator' AND instrument = %s AND day = %s",
        instrument,
        LIVE_DAY,
    )
    return dict(zip(columns, row, strict=True))


def test_a_live_and_a_backfilled_day_reach_the_report_the_lake_and_the_job_log(
    history: HistoryPipeline, httpserver: HTTPServer, s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    serde = AvroSerde()
    records, facts = live_records(serde)
    produce(
        history.cli.env["KAFKA_BOOTSTRAP_SERVERS"],
        history.cli.env["TICKWIRE_TOPIC_PREFIX"] + RAW_TICKS,
        records,
    )
    copies = sum(f["duplicates"] for f in facts.values())
    assert copies == N - len(REPLICA_HOLE)
    wait_for(
        lambda: stored_live(history) == (N, 1, copies, UNREADABLE + CROSSED),
        120,
        "the live day stored, its copies tallied and its rejects kept",
    )

    vendors.exchange_markets(httpserver, "binance")
    vendors.binance_klines(httpserver, T0, T0 + 1000 * H, "klines_1h_page1.json")
    vendors.binance_klines(httpserver, T0 + 1000 * H, BN_UNTIL_MS, "klines_1h_page2.json")
    backfill = history.backfill(httpserver.url_for("/"), "binance")
    args = ["--instruments", "BTCUSDT", "--interval", "1h"]
    args += ["--since", iso(T0 * 1000), "--until", iso(BN_UNTIL_MS * 1000)]
    [backfilled] = backfill.json_lines("backfill", "binance", *args)
    assert backfilled["pending"] == 0

    # The report gives exactly what was injected.
    cli = history.cli
    for day in (LIVE_DAY, BACKFILLED_DAY):
        assert cli.json_lines("quality", "--day", day.isoformat()), day
    for instrument, injected in facts.items():
        report = quality_row(history, instrument)
        assert (report["quotes"], report["trades"]) == (injected["quote"], injected["trade"])
        assert report["ticks"] == injected["quote"] + injected["trade"]
        assert report["duplicates"] == injected["duplicates"]
    a, b = quality_row(history, "L-A"), quality_row(history, "L-B")
    assert (a["rejects"], a["rejects_by_reason"]) == (UNREADABLE, {"undecodable_payload": 4})
    assert (b["rejects"], b["rejects_by_reason"]) == (CROSSED, {"crossed_market": CROSSED})
    assert (a["gaps"], a["gap_seconds"], b["gaps"]) == (1, 90.0, 0)
    assert list(a["gaps_by_reason"]) == [DISCONNECT]

    # Both days to a local folder and to the S3 store, read back equal to the database.
    s3 = cli.with_env(**s3_bucket.store.environ())
    local_root = str(tmp_path / "lake")
    written: list[int] = []
    for day in (LIVE_DAY, BACKFILLED_DAY):
        [to_local] = cli.json_lines("lake", "export", "--day", day.isoformat(), "--to", local_root)
        [to_s3] = s3.json_lines(
            "lake", "export", "--day", day.isoformat(), "--to", f"{s3_bucket.url}/lake"
        )
        assert to_local["rows_written"] == to_s3["rows_written"] > 0
        written += [to_local["rows_written"], to_s3["rows_written"]]
    filesystem = s3_bucket.store.filesystem()
    compared = Counter[str]()
    for day in (LIVE_DAY, BACKFILLED_DAY):
        for kind in KINDS:
            expected = database_rows(history.database_url, kind, day)
            assert local_lake_rows(local_root, kind, day) == expected, (day, kind.name)
            lake_s3 = s3_lake_rows(filesystem, f"{s3_bucket.name}/lake", kind, day)
            assert lake_s3 == expected, (day, kind.name)
            compared[kind.name] += len(expected)
    for kind in ("ticks", "gaps", "bars", "quality_daily"):
        assert compared[kind] > 0, f"no {kind} compared"

    # Every run in the job log, as each command ended.
    runs = history.get("/v1/jobs", limit=100)["runs"]
    ended = Counter((r["job"], r["status"]) for r in runs if r["job"] not in SET_UP_JOBS)
    assert ended == {
        ("backfill", "succeeded"): 1,
        ("quality", "succeeded"): 2,
        ("lake-export", "succeeded"): 4,
    }
    exports = [r for r in runs if r["job"] == "lake-export"]
    assert sorted(r["rows"] for r in exports) == sorted(written)
