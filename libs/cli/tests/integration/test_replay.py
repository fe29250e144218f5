"""`tickwire replay` and `tickwire record` against the real broker: a hand-written replay file lands
on the raw topic record for record (a bad line reported, not sent), and recording it back gives the
same messages."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import RAW_TICKS

pytestmark = pytest.mark.integration

T0 = 1_700_000_000_000_000
GAP = (
    '{"instrument":"ETHUSDT","reason":"disconnect","start_ts":1700000001000000,'
    '"end_ts":1700000002000000,"expected_seq":null,"received_seq":null,"lost":null,"detail":""}'
)
LINES = [
    {"provider": "binance", "feed": "bookTicker", "instrument": "BTCUSDT", "received_ts": T0,
     "payload": '{"u":1,"s":"BTCUSDT","b":"25.35","B":"31.21","a":"25.36","A":"40.66"}'},
    {"provider": "kraken", "feed": "ticker", "instrument": "BTC/USD",
     "received_ts": "2023-11-14T22:13:20.5Z", "payload": {"channel": "ticker", "bid": 36541.1}},
    "this line is not JSON",
    {"provider": "binance", "feed": "aggTrade", "instrument": "BTCUSDT", "received_ts": T0 + 7,
     "payload_b64": "AP/+"},
    {"provider": "binance", "feed": "gap", "instrument": "ETHUSDT", "received_ts": T0 + 9,
     "content_type": "application/vnd.tickwire.gap+json", "payload": GAP},
]  # fmt: skip


def write_replay_file(path: Path) -> Path:
    with path.open("w") as out:
        for line in LINES:
            out.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return path


def read_topic(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every committed record of the topic, decoded, in offset order per partition."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "t", "isolation.level": "read_committed"}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        records = []
        for p in partitions:
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


@pytest.fixture
def on_stack(tickwire, stack, topic_prefix):
    return tickwire.with_env(
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers, TICKWIRE_TOPIC_PREFIX=topic_prefix
    )


def test_replay_publishes_each_good_line_once_and_reports_the_bad_one(
    on_stack, stack, topic_prefix, tmp_path
) -> None:
    path = write_replay_file(tmp_path / "incident.jsonl")
    done = on_stack("replay", str(path), "--speed", "max")
    assert done.returncode == 0, done.stderr
    topic = topic_prefix + RAW_TICKS
    assert done.stdout == f"replayed 4 records from {path} to {topic} (5 lines, 1 bad)\n"
    logs = [json.loads(line) for line in done.stderr.splitlines()]
    [bad] = [r for r in logs if r["level"] == "WARNING" and "skipped" in r["message"]]
    assert bad["message"].startswith(f"replay file {path} line 3 skipped: not JSON")
    final = logs[-1]  # the progress, logged at the end when stderr is not a terminal
    size = path.stat().st_size
    assert (final["done"], final["total"], final["lines"], final["records"]) == (size, size, 5, 4)
    assert final["bad_lines"] == 1

    records = sorted(
        read_topic(stack.kafka_bootstrap_servers, topic), key=lambda r: r["ingest_seq"]
    )
    assert [r["ingest_seq"] for r in records] == [1, 2, 3, 4]
    assert {r["ingest_instance"] for r in records} == {"primary"}
    assert [(r["provider"], r["feed"], r["instrument"], r["received_ts"]) for r in records] == [
        ("binance", "bookTicker", "BTCUSDT", T0),
        ("kraken", "ticker", "BTC/USD", 1_700_000_000_500_000),
        ("binance", "aggTrade", "BTCUSDT", T0 + 7),
        ("binance", "gap", "ETHUSDT", 1_700_000_002_000_000),  # a gap is stamped with its end
    ]
    assert records[0]["payload"] == LINES[0]["payload"].encode()
    assert records[1]["payload"] == b'{"channel":"ticker","bid":36541.1}'
    assert (records[2]["payload"], records[2]["content_type"]) == (
        b"\x00\xff\xfe",
        "application/octet-stream",
    )
    assert records[3]["content_type"] == "application/vnd.tickwire.gap+json"


def test_record_copies_the_raw_topic_into_a_replay_file(
    on_stack, stack, topic_prefix, tmp_path
) -> None:
    source = write_replay_file(tmp_path / "in.jsonl")
    assert on_stack("replay", str(source), "--speed", "max").returncode == 0
    out = tmp_path / "out.jsonl.gz"
    done = on_stack("record", str(out), "--timeout", "3")
    assert done.returncode == 0, done.stderr
    topic = topic_prefix + RAW_TICKS
    assert done.stdout == f"recorded 4 records from {topic} to {out}\n"
    lines = [json.loads(line) for line in gzip.decompress(out.read_bytes()).splitlines()]
    keys = sorted((r["provider"], r["instrument"], r["received_ts"]) for r in lines)
    assert keys == sorted(
        [
            ("binance", "BTCUSDT", T0),
            ("kraken", "BTC/USD", 1_700_000_000_500_000),
            ("binance", "BTCUSDT", T0 + 7),
            ("binance", "ETHUSDT", 1_700_000_002_000_000),
        ]
    )
    # And back again: the recording replays as what it recorded.
    again = on_stack("replay", str(out), "--speed", "max")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("replayed 4 records from ")


def test_record_stops_after_max(on_stack, tmp_path) -> None:
    source = write_replay_file(tmp_path / "in.jsonl")
    assert on_stack("replay", str(source), "--speed", "max").returncode == 0
    done = on_stack("record", str(tmp_path / "two.jsonl"), "--max", "2")
    assert done.returncode == 0, done.stderr
    assert len((tmp_path / "two.jsonl").read_text().splitlines()) == 2


def test_record_from_a_topic_that_does_not_exist_is_one_line(on_stack, tmp_path) -> None:
    done = on_stack("record", str(tmp_path / "x.jsonl"), "--topic", "no.such.topic")
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("tickwire: error: topic no.such.topic not found on ")
