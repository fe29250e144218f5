"""`tickwire tail` against the real broker: every topic kind decoded, dead letters with reason,
source and payload, start positions, limits, filters, follow with Ctrl-C, and pipes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import timedelta
from typing import Any

import fastavro
import pytest
from confluent_kafka import Producer

from tickwire_core.serde import MAGIC, AvroSerde, default_schema_dir, fingerprint
from tickwire_core.topics import ANOMALIES, BARS, DEAD_LETTER, RAW_TICKS, SIGNALS, STATUS, TICKS

pytestmark = pytest.mark.integration

SERDE = AvroSerde()
KEY = b"simulator|SIM-A"
OLD_TICK_FIELDS = {
    f["name"]
    for f in json.loads((default_schema_dir() / "history" / "tick" / "1.avsc").read_text())[
        "fields"
    ]
}


def line(
    records: Any,
    topic: str,
    offset: int,
    value: Any,
    *,
    key: Any = "simulator|SIM-A",
    partition: int = 0,
) -> dict[str, Any]:
    return {
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "timestamp": records.T0_ISO,
        "key": key,
        "value": value,
    }


def test_tail_decodes_each_topic_kind(cli, topics, records, topic_prefix) -> None:
    payload = records.sim_quote("99.5", "100.5", records.T0_US)
    raw = records.raw_tick(payload)
    tick = records.tick("SIM-A")
    kinds = [
        (
            "raw",
            RAW_TICKS,
            "raw_tick",
            raw,
            {**records.with_defaults("raw_tick", raw), "payload": payload.decode()},
        ),
        ("ticks", TICKS, "tick", tick, records.with_defaults("tick", tick)),
        ("bars", BARS, "bar", records.BAR, records.with_defaults("bar", records.BAR)),
        ("anomalies", ANOMALIES, "anomaly", records.ANOMALY, records.ANOMALY),
        ("signals", SIGNALS, "signal", records.SIGNAL, records.SIGNAL),
    ]
    for _short, topic, schema, record, _expected in kinds:
        topics.send(topic, SERDE.encode(schema, record), KEY)
    topics.send(STATUS, SERDE.encode("heartbeat", records.HEARTBEAT), b"normalize|normalize-0")

    for short, topic, _schema, _record, expected in kinds:
        assert cli.json_lines("tail", short) == [
            line(records, topic_prefix + topic, 0, expected)
        ], short
    assert cli.json_lines("tail", "status") == [
        line(records, topic_prefix + STATUS, 0, records.HEARTBEAT, key="normalize|normalize-0")
    ]
    # The full name works as well as the short one, with or without the prefix.
    assert cli.json_lines("tail", BARS) == cli.json_lines("tail", topic_prefix + BARS)


def test_a_record_that_does_not_decode_is_a_line_with_an_error(cli, topics, records) -> None:
    topics.send(TICKS, b"not avro", KEY)
    topics.send(TICKS, SERDE.encode("tick", records.tick("SIM-A")), KEY)
    first, second = cli.json_lines("tail", "ticks")
    assert first["error"] == "not an Avro single-object tick record (bad or missing header)"
    assert first["value"] == "not avro" and first["offset"] == 0
    assert second["value"]["instrument"] == "SIM-A" and "error" not in second


def test_dead_letters_show_reason_source_and_the_original_payload(
    cli, topics, records, topic_prefix
) -> None:
    raw_topic = topic_prefix + RAW_TICKS
    raw = records.raw_tick(records.sim_quote("101", "100", records.T0_US))
    about = {"provider": "simulator", "instrument": "SIM-A", "event_ts": records.T0_US}
    letters = [
        {
            **records.dead_letter(
                SERDE.encode("raw_tick", raw), raw_topic, "crossed_market", 41, KEY
            ),
            **about,
        },
        records.dead_letter(b"garbage text", raw_topic, "undecodable", 42, KEY),
        records.dead_letter(b"\xff\x00\x01", raw_topic, "undecodable", 43, None),
    ]
    for letter in letters:
        topics.send(DEAD_LETTER, SERDE.encode("dead_letter", letter), letter["source_key"])

    lines = cli.json_lines("tail", "deadletter")

    def shown(letter: dict[str, Any]) -> dict[str, Any]:
        return {
            "reason": letter["reason"],
            "message": letter["message"],
            "service": "normalize",
            "source": {
                "topic": raw_topic,
                "partition": 2,
                "offset": letter["source_offset"],
                "key": None if letter["source_key"] is None else "simulator|SIM-A",
            },
            "rejected_ts": records.T0_US + 500,
        }

    not_avro = "not an Avro single-object raw_tick record (bad or missing header)"
    dead_letter_topic = topic_prefix + DEAD_LETTER
    assert lines == [
        line(
            records,
            dead_letter_topic,
            0,
            {
                **shown(letters[0]),
                **about,
                "payload": {
                    **records.with_defaults("raw_tick", raw),
                    "payload": raw["payload"].decode(),
                },
                "payload_schema": "raw_tick",
            },
        ),
        line(
            records,
            dead_letter_topic,
            1,
            {**shown(letters[1]), "payload": "garbage text", "payload_error": not_avro},
        ),
        line(
            records,
            dead_letter_topic,
            2,
            {**shown(letters[2]), "payload": {"base64": "/wAB"}, "payload_error": not_avro},
            key=None,
        ),
    ]


def test_from_limit_and_filters(cli, topics, records) -> None:
    hour_ms = 3_600_000
    sent = [  # (partition, timestamp, tick)
        (0, records.T0_MS, records.tick("SIM-A")),
        (0, records.T0_MS + hour_ms, records.tick("SIM-B")),
        (0, records.T0_MS + 2 * hour_ms, records.tick("BTC-USD", provider="deribit")),
        (1, records.T0_MS + hour_ms // 2, records.tick("SIM-A", price=101.0)),
    ]
    for partition, ts, tick in sent:
        key = f"{tick['provider']}|{tick['instrument']}".encode()
        topics.send(TICKS, SERDE.encode("tick", tick), key, partition=partition, timestamp_ms=ts)

    def seen(*args: str) -> list[tuple[int, int, str]]:
        found = cli.json_lines("tail", "ticks", *args)
        return sorted((x["partition"], x["offset"], x["value"]["instrument"]) for x in found)

    everything = [(0, 0, "SIM-A"), (0, 1, "SIM-B"), (0, 2, "BTC-USD"), (1, 0, "SIM-A")]
    assert seen() == everything
    assert seen("--from", "earliest") == everything
    assert seen("--from", "latest") == []
    at = records.T0 + timedelta(hours=1)
    assert seen("--from", at.isoformat().replace("+00:00", "Z")) == [
        (0, 1, "SIM-B"),
        (0, 2, "BTC-USD"),
    ]
    # Without a zone the time is UTC; T0 + 30 min is the partition 1 record's own time.
    half_hour = records.T0 + timedelta(minutes=30)
    assert seen("--from", half_hour.replace(tzinfo=None).isoformat()) == [
        (0, 1, "SIM-B"),
        (0, 2, "BTC-USD"),
        (1, 0, "SIM-A"),
    ]
    assert seen("--from", (records.T0 + timedelta(days=1)).isoformat()) == []
    assert len(seen("--limit", "2")) == 2
    assert seen("--instrument", "SIM-A") == [(0, 0, "SIM-A"), (1, 0, "SIM-A")]
    assert seen("--provider", "deribit") == [(0, 2, "BTC-USD")]
    assert seen("--provider", "simulator", "--instrument", "SIM-B") == [(0, 1, "SIM-B")]
    # The venue's own name (venue_instrument) selects as well as the unified one.
    assert seen("--instrument", "sim-b") == [(0, 1, "SIM-B")]
    assert seen("--instrument", "NOPE") == []


def test_dead_letters_filter_on_their_payload_and_source_key(
    cli, topics, records, topic_prefix
) -> None:
    raw_topic = topic_prefix + RAW_TICKS
    for offset, instrument in ((1, "SIM-A"), (2, "SIM-B")):
        quote = records.sim_quote("1", "2", records.T0_US, instrument=instrument)
        raw = records.raw_tick(quote, instrument=instrument)
        letter = records.dead_letter(
            SERDE.encode("raw_tick", raw), raw_topic, "crossed_market", offset, None
        )
        topics.send(DEAD_LETTER, SERDE.encode("dead_letter", letter), None)
    garbage = records.dead_letter(b"?", raw_topic, "undecodable", 3, b"deribit|BTC-PERPETUAL")
    topics.send(DEAD_LETTER, SERDE.encode("dead_letter", garbage), garbage["source_key"])

    def offsets(*args: str) -> list[int]:
        return [x["value"]["source"]["offset"] for x in cli.json_lines("tail", *args)]

    assert offsets("deadletter", "--instrument", "SIM-B") == [2]
    assert offsets("deadletter", "--provider", "simulator") == [1, 2]
    assert offsets("deadletter", "--provider", "deribit") == [3]  # by the original key


def test_follow_prints_new_records_until_ctrl_c(cli, topics, records) -> None:
    topics.send(TICKS, SERDE.encode("tick", records.tick("SIM-A")), KEY)
    following = cli.start("tail", "ticks", "--follow")
    try:
        assert following.next_json()["value"]["instrument"] == "SIM-A"
        topics.send(TICKS, SERDE.encode("tick", records.tick("SIM-B")), KEY)
        later = following.next_json()
        assert (later["offset"], later["value"]["instrument"]) == (1, "SIM-B")
    finally:
        code, stderr = following.stop()
    assert code == 0
    assert "Traceback" not in stderr and "error" not in stderr


def test_head_closing_the_pipe_is_not_an_error(cli, topics, records) -> None:
    for i in range(1000):
        topics.producer.produce(
            topics.prefix + TICKS, SERDE.encode("tick", records.tick(f"SIM-{i}")), key=KEY
        )
    assert topics.producer.flush(30) == 0
    status = 'echo "exit=${PIPESTATUS[0]}" >&2'
    done = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m tickwire_cli tail ticks | head -n 2; {status}'],
        capture_output=True,
        text=True,
        timeout=120,
        env=cli.env,
    )
    assert len(done.stdout.splitlines()) == 2
    assert done.stderr.strip().splitlines() == ["exit=0"]


def test_table_output_on_request(cli, topics, records) -> None:
    topics.send(TICKS, SERDE.encode("tick", records.tick("SIM-A")), KEY)
    done = cli("tail", "ticks", "--output", "table")
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.splitlines()[:2]
    assert header.split() == ["P", "OFFSET", "TIME", "(UTC)", "KEY", "VALUE"], done.stdout
    day, time = records.T0_ISO.removesuffix("+00:00").split("T")
    assert row.split()[:5] == ["0", "0", day, time, "simulator|SIM-A"]
    assert '"instrument":"SIM-A"' in row


def test_a_topic_missing_on_the_broker_is_one_line(cli) -> None:
    done = cli("--topic-prefix", "no-such-prefix.", "tail", "ticks")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "tickwire: error: topic no-such-prefix.tickwire.ticks.normalized does not exist on "
        f"Kafka at {cli.env['KAFKA_BOOTSTRAP_SERVERS']} (hint: create the topics with "
        "`tickwire topics create`, or check --topic-prefix)"
    ]


def test_records_of_an_earlier_schema_version_decode_into_the_current_one(
    cli, topics, records
) -> None:
    # A tick as written before venue_instrument, dedup_key and the gap fields existed.
    old_schema = json.loads((default_schema_dir() / "history" / "tick" / "1.avsc").read_text())
    old_tick = {k: v for k, v in records.tick("SIM-OLD").items() if k in OLD_TICK_FIELDS}
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(old_schema), old_tick)
    topics.send(TICKS, MAGIC + fingerprint(old_schema) + body.getvalue(), KEY)
    [shown] = cli.json_lines("tail", "ticks")
    assert shown["value"] == records.with_defaults("tick", old_tick)
    assert shown["value"]["venue_instrument"] is None and "error" not in shown


def test_records_of_an_aborted_transaction_are_not_shown(cli, topics, records) -> None:
    producer = Producer(
        {"bootstrap.servers": cli.env["KAFKA_BOOTSTRAP_SERVERS"], "transactional.id": "tail-test"}
    )
    producer.init_transactions(30)
    for instrument, commit in (("SIM-KEPT", True), ("SIM-ABORTED", False)):
        producer.begin_transaction()
        tick = SERDE.encode("tick", records.tick(instrument))
        producer.produce(topics.prefix + TICKS, value=tick, key=KEY, partition=0)
        assert producer.flush(30) == 0  # on the broker: an abort would drop it from the queue
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
    # The aborted record is in the log (offset 2, after the commit marker at 1), and the log ends
    # with an abort marker, not a record: reading must skip the one and still end.
    assert [x["value"]["instrument"] for x in cli.json_lines("tail", "ticks")] == ["SIM-KEPT"]
