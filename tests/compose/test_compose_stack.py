"""docker-compose.yml, run: what a user checks after `up` (ticks reach the API, the replica's copies
coalesced, every service alive, the API closed to writes and to callers without a key), then
normalize, sink and an ingest instance killed with SIGKILL and started again with nothing lost or
stored twice, and `down -v` leaving nothing of the project behind. The tests run in file order
on one stack, the last one taking it down."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter

import httpx
import psycopg
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from tests.compose.stack import COMPOSE_FILE, TEST_FILE, ComposeStack
from tickwire_core.serde import AvroSerde

pytestmark = [pytest.mark.compose, pytest.mark.timeout(1800)]

INSTRUMENTS = ("SIM-BTC-USD", "SIM-ETH-USD", "SIM-SOL-USD")
SERVICES = {
    ("ingest", "simulator/primary"),
    ("ingest", "simulator/replica"),
    ("normalize", "normalize"),
    ("signals", "signals"),
    ("sink", "sink"),
}
KILLED = ("normalize", "sink", "ingest-primary")
RAW_TOPIC = "tickwire.ticks.raw"


def api(stack: ComposeStack, key: str | None) -> httpx.Client:
    headers = {"X-API-Key": key} if key else {}
    return httpx.Client(
        base_url=f"http://127.0.0.1:{stack.settings['API_HOST_PORT']}", headers=headers, timeout=10
    )


def database_url(stack: ComposeStack) -> str:
    return (
        f"postgresql://tickwire:{stack.settings['POSTGRES_PASSWORD']}"
        f"@127.0.0.1:{stack.settings['POSTGRES_HOST_PORT']}/tickwire"
    )


def stored_seqs(stack: ComposeStack) -> list[tuple[str, int]]:
    """(instrument, venue sequence) of every stored simulator update, one per row."""
    with psycopg.connect(database_url(stack)) as conn:
        rows = conn.execute(
            "SELECT instrument, venue_seq FROM ticks WHERE provider = 'simulator' AND kind <> 'gap'"
        ).fetchall()
    return [(instrument, seq) for instrument, seq in rows]


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of a Prometheus counter's samples whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            total += float(match.group(2))
    return total


def test_ticks_reach_the_api(compose_stack: ComposeStack, api_key: str) -> None:
    with api(compose_stack, api_key) as client:
        for instrument in INSTRUMENTS:
            deadline = time.monotonic() + 60
            while True:
                page = client.get("/v1/ticks/latest", params={"instrument": instrument})
                assert page.status_code == 200, page.text
                ticks = page.json()["ticks"]
                if ticks or time.monotonic() > deadline:
                    break
                time.sleep(1)
            assert ticks, f"no tick of {instrument} served"
            assert {t["provider"] for t in ticks} == {"simulator"}


def test_every_service_reports_alive(compose_stack: ComposeStack, api_key: str) -> None:
    with api(compose_stack, api_key) as client:
        status = client.get("/v1/status")
    assert status.status_code == 200, status.text
    services = {(s["service"], s["instance"]): s for s in status.json()["services"]}
    assert set(services) >= SERVICES
    assert [key for key in SERVICES if not services[key]["alive"]] == []
    feeds = {f["instrument"]: f for f in status.json()["feeds"] if f["provider"] == "simulator"}
    assert set(feeds) == set(INSTRUMENTS)
    assert [name for name, feed in feeds.items() if feed["stale"]] == []


def test_the_api_refuses_writes_and_callers_without_a_key(
    compose_stack: ComposeStack, api_key: str
) -> None:
    path, params = "/v1/ticks/latest", {"instrument": INSTRUMENTS[0]}
    with api(compose_stack, None) as anonymous:
        assert anonymous.get(path, params=params).status_code == 401
        wrong = anonymous.get(path, params=params, headers={"X-API-Key": "x" * 32})
        assert wrong.status_code == 401
    with api(compose_stack, api_key) as client:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            refused = client.request(method, path, params=params, json={})
            assert refused.status_code == 405, (method, refused.status_code)


def test_the_replicas_copies_are_coalesced(compose_stack: ComposeStack) -> None:
    port = compose_stack.settings["NORMALIZE_METRICS_HOST_PORT"]
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    # Both instances' updates reach normalize, and it drops copies.
    assert metric(metrics, "tickwire_normalize_raw_total", instance="primary") > 0
    assert metric(metrics, "tickwire_normalize_raw_total", instance="replica") > 0
    assert metric(metrics, "tickwire_normalize_deduplicated_total", provider="simulator") > 0
    seqs = stored_seqs(compose_stack)
    assert len(seqs) > 0
    assert [key for key, n in Counter(seqs).items() if n > 1] == []


def published(stack: ComposeStack) -> set[tuple[str, int]]:
    """(instrument, sequence) of every update either ingest instance published, read back from
    the raw topic through the broker's host listener up to each partition's end (the feeds are
    stopped: the ends do not move)."""
    consumer = Consumer(
        {
            "bootstrap.servers": f"127.0.0.1:{stack.settings['KAFKA_HOST_PORT']}",
            "group.id": f"compose-tier-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    serde, found = AvroSerde(), set()
    try:
        topic = consumer.list_topics(RAW_TOPIC, timeout=30).topics[RAW_TOPIC]
        ends = {p: consumer.get_watermark_offsets(TopicPartition(RAW_TOPIC, p), timeout=30)[1]
                for p in topic.partitions}  # fmt: skip
        consumer.assign([TopicPartition(RAW_TOPIC, p, OFFSET_BEGINNING) for p in ends])
        read = dict.fromkeys(ends, 0)
        deadline = time.monotonic() + 120
        while any(read[p] < end for p, end in ends.items()):
            assert time.monotonic() < deadline, f"read {read} of {ends}"
            for message in consumer.consume(1000, 1.0):
                assert message.error() is None, message.error()
                read[message.partition()] = message.offset() + 1
                record = serde.decode("raw_tick", message.value())
                found.add((record["instrument"], json.loads(record["payload"])["seq"]))
    finally:
        consumer.close()
    return found


def settled_seqs(stack: ComposeStack, expected: int, timeout: float = 180) -> list[tuple[str, int]]:
    """The stored updates once as many distinct ones as `expected` are there (or the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        seqs = stored_seqs(stack)
        if len(set(seqs)) >= expected or time.monotonic() > deadline:
            return seqs
        time.sleep(2)


def test_killed_services_restart_and_nothing_is_lost_or_stored_twice(
    compose_stack: ComposeStack,
) -> None:
    time.sleep(5)  # mid-stream: each has batches in flight
    started = {service: compose_stack.state(service)["StartedAt"] for service in KILLED}
    for service in KILLED:
        compose_stack.kill(service)
    time.sleep(3)
    for service in KILLED:
        compose_stack.start(service)
        assert compose_stack.state(service)["StartedAt"] != started[service], service
    time.sleep(10)  # the restarted primary sends again, from its venue's first update
    # Both feeds end, cleanly: what they published is then all there is to store.
    compose_stack.compose("stop", "ingest-primary", "ingest-replica")
    expected = published(compose_stack)
    assert {instrument for instrument, _ in expected} == set(INSTRUMENTS)
    seqs = settled_seqs(compose_stack, len(expected))
    assert [key for key, n in Counter(seqs).items() if n > 1] == [], "stored twice"
    assert sorted(expected - set(seqs)) == [], "lost"
    assert sorted(set(seqs) - expected) == [], "stored without being published"
    # Each instrument's sequence has no hole: the replica, never killed, sent every update.
    for instrument in INSTRUMENTS:
        mine = sorted(seq for name, seq in seqs if name == instrument)
        assert mine == list(range(1, len(mine) + 1)), instrument


def test_the_test_runner_passes_integration_tests_against_the_stack(
    compose_stack: ComposeStack,
) -> None:
    # A sample of the integration tier that `run --rm tests` runs whole, each test on its own
    # topics and database beside the running pipeline: normalize's exactly-once loop and the
    # sink's; both TimescaleDB paths (the Apache one on the file's second server) and the compose
    # roles' script through the runner's psql; the dashboard in the runner's Chromium; the CLI's
    # local-run check through a loopback port.
    files = (COMPOSE_FILE, TEST_FILE)
    # `run --no-deps` starts none of the runner's dependencies: the one the stack lacks is started
    # here, as `run` would start it, and removed after.
    compose_stack.compose(
        "--profile", "test", "up", "--detach", "--no-build", "--no-deps", "timescaledb-apache",
        files=files,
    )  # fmt: skip
    try:
        compose_stack.wait("timescaledb-apache", "service_healthy")
        done = compose_stack.compose(
            "--profile", "test", "run", "--rm", "--no-deps", "-T", "tests",
            "pytest", "-p", "no:cacheprovider", "-q", "--color=no", "-m", "integration",
            "services/normalize/tests/integration",
            "services/sink/tests/integration/test_sink_loop.py",
            "services/sink/tests/integration/test_tick_writer.py",
            "services/sink/tests/integration/test_rollups.py",
            "services/sink/tests/integration/test_timescale_storage.py::test_the_policies_exist_and_do_their_work",
            "services/api/tests/integration/test_dashboard_jobs.py",
            "libs/cli/tests/integration/test_status.py",
            files=files,
            timeout=1200,
        )  # fmt: skip
    finally:
        apache = compose_stack.container("timescaledb-apache")
        compose_stack.runtime("rm", "--force", "--volumes", apache)
    summary = done.stdout.strip().splitlines()[-1]
    print(summary)
    assert re.search(r"\b\d+ passed\b", summary), done.stdout[-3000:]
    assert not re.search(r"failed|error|skipped", summary), done.stdout[-3000:]


def test_down_v_leaves_nothing_behind(compose_stack: ComposeStack) -> None:
    volumes = compose_stack.volumes()
    assert len(volumes) >= 3  # kafka-data, timescaledb-data, signals-data
    compose_stack.compose("down", "--volumes", timeout=600)
    assert compose_stack.leftovers(volumes) == {"containers": [], "networks": [], "volumes": []}
