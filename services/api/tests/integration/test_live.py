"""/v1/live against the real broker: records published as the signals service publishes them
reach exactly the streams that asked for them, in order, over real HTTP (uvicorn); a client
that does not read is told what it missed; no Kafka means 503 and the rest of the API serves."""

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from confluent_kafka import Producer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tickwire_api.app import create_app
from tickwire_api.models.events import Anomaly, Signal
from tickwire_api.settings import ApiSettings
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import ANOMALIES, SIGNALS, tick_key
from tickwire_sink.adapters.migrations import migrate
from tickwire_testing.plugin import Stack

pytestmark = pytest.mark.integration

KEY = "tw_live_7e31c0a9"
KEYED = {"X-API-Key": KEY}
A, B = "LIVE-A", "LIVE-B"
T0 = 1_700_000_000_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SERDE = AvroSerde()


def live_settings(stack: Stack, prefix: str, **extra: Any) -> ApiSettings:
    return ApiSettings(
        DATABASE_URL=stack.database_url,
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
        topic_prefix=prefix,
        api_key_hashes=hashlib.sha256(KEY.encode()).hexdigest(),
        **extra,
    )


def anomaly(instrument: str, n: int, provider: str = "simulator") -> dict[str, Any]:
    return {
        "provider": provider,
        "instrument": instrument,
        "ts": T0 + n * 1_000_000 + 250_000,
        "rule": "zscore",
        "severity": "critical" if n % 2 else "warning",
        "value": 5.5 + n,
        "threshold": 5.0,
        "window_mean": 100.0,
        "window_stddev": 0.25,
        "window_count": 200,
        "detail": f"anomaly {n} of {instrument}",
    }


def signal(instrument: str, n: int, provider: str = "simulator") -> dict[str, Any]:
    return {
        "provider": provider,
        "instrument": instrument,
        "ts": T0 + n * 60_000_000,
        "name": "sma_20",
        "value": 100.0 + n / 4,
        "parameters": {"interval": "1m", "window": "20"},
    }


def expected_json(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record as the history routes print it: the time in RFC 3339 UTC, a signal's
    interval from its parameters."""
    stamp = (EPOCH + timedelta(microseconds=record["ts"])).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    shown = {**record, "ts": stamp.replace(".000000Z", "Z")}
    if kind == "signal":
        shown["interval"] = record["parameters"]["interval"]
    return shown


class Published:
    """Records produced as the signals service produces them (Avro, key provider|instrument),
    with the topic, partition and offset the broker gave each."""

    def __init__(self, stack: Stack, prefix: str) -> None:
        self.prefix = prefix
        self.producer = Producer(
            {"bootstrap.servers": stack.kafka_bootstrap_servers, "enable.idempotence": True}
        )
        self.records: list[dict[str, Any]] = []

    def send(self, kind: str, record: dict[str, Any]) -> None:
        topic = self.prefix + (ANOMALIES if kind == "anomaly" else SIGNALS)
        entry = {"kind": kind, "record": record, "topic": topic}

        def delivered(error: Any, message: Any) -> None:
            assert error is None, error
            entry["id"] = f"{message.topic()}:{message.partition()}:{message.offset()}"

        self.producer.produce(
            topic,
            value=SERDE.encode(kind, record),
            key=tick_key(record["provider"], record["instrument"]),
            on_delivery=delivered,
        )
        self.records.append(entry)

    def flush(self) -> None:
        assert self.producer.flush(30) == 0


def by_partition(ids: list[str]) -> dict[str, list[int]]:
    """Offsets per topic:partition in the order given: the order Kafka promises to keep."""
    grouped: dict[str, list[int]] = {}
    for event_id in ids:
        place, _, offset = event_id.rpartition(":")
        grouped.setdefault(place, []).append(int(offset))
    return grouped


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def metric(client: httpx.Client, name: str, **labels: str) -> float:
    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def feed_connected(client: httpx.Client) -> bool:
    return metric(client, "tickwire_live_feed_connected") == 1.0


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn on a free port of its own, on a thread; its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=2)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), "uvicorn to start")
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
    assert not thread.is_alive(), "the server did not stop"


def test_each_stream_gets_exactly_its_records_in_order(stack: Stack, topic_prefix: str) -> None:
    app = create_app(live_settings(stack, topic_prefix, live_heartbeat_s=60))
    streams = {
        "a": ({"instrument": A}, lambda kind, r: r["instrument"] == A),
        "b": ({"instrument": B}, lambda kind, r: r["instrument"] == B),
        "signals of A and B from the simulator": (
            {"instrument": [A, B], "kind": "signals", "provider": "simulator"},
            lambda kind, r: kind == "signal" and r["provider"] == "simulator",
        ),
    }
    with serving(app) as base, httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/v1/live", params={"instrument": A}).status_code == 401
        wrong = client.get("/v1/live", params={"instrument": A}, headers={"X-API-Key": "x"})
        assert wrong.status_code == 401
        wait_until(lambda: feed_connected(client), "the live feed to read every partition")
        open_before = metric(client, "tickwire_live_streams")  # the gauge is per process

        with ExitStack() as opened:
            responses = {
                name: opened.enter_context(
                    client.stream("GET", "/v1/live", params=params, headers=KEYED)
                )
                for name, (params, _wanted) in streams.items()
            }
            for response in responses.values():
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
            events = {name: server_events(r.iter_lines()) for name, r in responses.items()}
            # The opening frame (retry, no data) says the subscription is in place.
            for name in streams:
                assert next(events[name]).retry == 3000

            published = Published(stack, topic_prefix)
            for n in range(3):
                for instrument in (A, B):
                    published.send("anomaly", anomaly(instrument, n))
                    published.send("signal", signal(instrument, n))
            published.send("signal", signal(A, 3, provider="othervenue"))
            published.flush()
            first_round = list(published.records)

            received: dict[str, list[Any]] = {}
            for name, (_params, wanted) in streams.items():
                expected = [p for p in first_round if wanted(p["kind"], p["record"])]
                received[name] = [next(events[name]) for _ in expected]
                assert by_partition([e.id for e in received[name]]) == by_partition(
                    [p["id"] for p in expected]
                ), name
                sent = {p["id"]: p for p in expected}
                for got in received[name]:
                    record = sent[got.id]
                    assert got.event == record["kind"]
                    assert got.json() == expected_json(record["kind"], record["record"])
                    model = Anomaly if got.event == "anomaly" else Signal
                    assert set(got.json()) == set(model.model_fields)
            assert {e.event for e in received["a"]} == {"anomaly", "signal"}

            # Nothing else is on its way: a last record for each stream comes next. Anything
            # sent to the wrong stream would have been queued before it.
            published.records.clear()
            published.send("anomaly", anomaly(A, 99))
            published.send("anomaly", anomaly(B, 99))
            published.send("signal", signal(B, 99))
            published.flush()
            for name, (_params, wanted) in streams.items():
                last = [p["id"] for p in published.records if wanted(p["kind"], p["record"])]
                assert sorted(next(events[name]).id for _ in last) == sorted(last), name
            assert metric(client, "tickwire_live_streams") == open_before + 3

        # Closed by the clients: the server lets go of their subscriptions.
        wait_until(
            lambda: metric(client, "tickwire_live_streams") == open_before, "streams to close"
        )


@dataclass
class ServerEvent:
    """One event of a text/event-stream, as a browser's EventSource would see it."""

    event: str = "message"
    id: str = ""
    data: str = ""
    retry: int | None = None

    def json(self) -> Any:
        return json.loads(self.data)


def server_events(lines: Iterator[str]) -> Iterator[ServerEvent]:
    """The events of a stream's lines: fields up to a blank line make one; comments (keep-alives)
    are passed over, as EventSource does."""
    fields: dict[str, str] = {}
    for line in lines:
        if line.startswith(":"):
            continue
        if line:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data" and name in fields:  # several data lines join with newlines
                value = fields[name] + "\n" + value
            fields[name] = value
            continue
        if fields:
            retry = fields.get("retry")
            yield ServerEvent(
                event=fields.get("event", "message"),
                id=fields.get("id", ""),
                data=fields.get("data", ""),
                retry=int(retry) if retry is not None else None,
            )
            fields = {}


def read_frames(
    lines: Iterator[str], until: Callable[[dict[str, str]], bool], timeout: float = 10.0
) -> list[dict[str, str]]:
    """Frames of a raw text/event-stream (comments as {"comment": ...}) up to the first for
    which `until` holds. The streams read here send keep-alives often, so the deadline is
    checked often even when no event comes."""
    deadline = time.monotonic() + timeout
    frames: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    for line in lines:
        assert time.monotonic() < deadline, f"no such frame within {timeout} s: {frames[-5:]}"
        if line.startswith(":"):
            frames.append({"comment": line[1:].strip()})
        elif line:
            name, _, value = line.partition(": ")
            fields[name] = value
            continue
        elif fields:
            frames.append(fields)
            fields = {}
        else:
            continue
        if until(frames[-1]):
            return frames
    raise AssertionError(f"the stream ended after {frames}")


def test_a_client_that_does_not_read_is_told_what_it_missed(
    stack: Stack, topic_prefix: str
) -> None:
    settings = live_settings(
        stack, topic_prefix, live_queue_size=4, live_max_streams=1, live_heartbeat_s=0.05
    )
    # The test client hands the app each chunk only when the client reads it, so a client that
    # does not read holds the stream's writes: exactly a slow client.
    with TestClient(create_app(settings)) as client:
        wait_until(lambda: feed_connected(client), "the live feed to read every partition")
        records = metric(client, "tickwire_live_records_total", event="anomaly")
        dropped = metric(client, "tickwire_live_events_dropped_total", event="anomaly")
        params = {"instrument": A, "kind": "anomalies"}
        with client.stream("GET", "/v1/live", params=params, headers=KEYED) as slow:
            lines = slow.iter_lines()
            read_frames(lines, lambda frame: "retry" in frame)

            full = client.get("/v1/live", params=params, headers=KEYED)
            assert full.status_code == 503
            assert "maximum of 1 live streams" in full.json()["detail"]
            assert full.headers["retry-after"] == "5"

            published = Published(stack, topic_prefix)
            for n in range(20):
                published.send("anomaly", anomaly(A, n))
            published.flush()
            sent = [p["id"] for p in published.records]
            wait_until(
                lambda: (
                    metric(client, "tickwire_live_records_total", event="anomaly") == records + 20
                ),
                "the feed to fan out the 20 records",
            )

            frames = read_frames(lines, lambda frame: frame.get("event") == "lagged")
            events = [frame for frame in frames if "event" in frame]
            delivered = [f["id"] for f in events[:-1]]
            missed = json.loads(events[-1]["data"])["missed"]
            # The queue's 4, and the one the stream had taken when its writes stalled.
            assert len(delivered) in (4, 5)
            assert delivered == sent[: len(delivered)]
            assert missed == 20 - len(delivered)
            assert (
                metric(client, "tickwire_live_events_dropped_total", event="anomaly")
                == dropped + missed
            )

            # The stream goes on, and an idle one gets keep-alive comments.
            published.records.clear()
            published.send("anomaly", anomaly(A, 20))
            published.flush()
            (after,) = [f for f in read_frames(lines, lambda f: "event" in f) if "event" in f]
            assert after["id"] == published.records[0]["id"] and after["event"] == "anomaly"
            read_frames(lines, lambda f: f.get("comment") == "keep-alive")


def test_without_kafka_live_is_503_and_history_is_served(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    settings = ApiSettings(
        DATABASE_URL=database_url,
        KAFKA_BOOTSTRAP_SERVERS=None,
        api_key_hashes=hashlib.sha256(KEY.encode()).hexdigest(),
        live_max_instruments=2,
    )
    with TestClient(create_app(settings)) as client:
        answer = client.get("/v1/live", params={"instrument": A}, headers=KEYED)
        assert answer.status_code == 503
        assert answer.json() == {
            "detail": "live stream not configured: set KAFKA_BOOTSTRAP_SERVERS"
        }
        assert client.get("/v1/live", params={"instrument": A}).status_code == 401
        assert client.get("/v1/instruments", headers=KEYED).status_code == 200
        assert client.get("/readyz").status_code == 200
        for bad, parameter in (
            ({}, "instrument"),
            ({"instrument": "not an instrument"}, "instrument"),
            ({"instrument": A, "kind": "ticks"}, "kind"),
            ({"instrument": A, "provider": "Not-A-Provider"}, "provider"),
            ({"instrument": ["X1", "X2", "X3", "X2"]}, "instrument"),  # 3 distinct, 2 allowed
        ):
            refused = client.get("/v1/live", params=bad, headers=KEYED)
            assert refused.status_code == 422, bad
            assert refused.json()["detail"][0]["loc"][:2] == ["query", parameter], bad
        two = client.get("/v1/live", params={"instrument": ["X1", "X2", "X1"]}, headers=KEYED)
        assert two.status_code == 503  # within the cap: refused only for want of Kafka


def test_with_kafka_down_the_api_serves_and_stops_promptly(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
    nobody = socket.socket()
    nobody.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    try:
        settings = ApiSettings(
            DATABASE_URL=database_url,
            KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{nobody.getsockname()[1]}",
            allow_anonymous=True,
        )
        client = TestClient(create_app(settings))
        with client:
            assert client.get("/readyz").status_code == 200
            assert client.get("/v1/instruments").status_code == 200
            assert not feed_connected(client)
            with client.stream("GET", "/v1/live", params={"instrument": A}) as stream:
                assert stream.status_code == 200
                read_frames(stream.iter_lines(), lambda frame: "retry" in frame)
            stopping = time.monotonic()
        assert time.monotonic() - stopping < 3.0
        assert not any(t.name == "live-feed" for t in threading.enumerate())
    finally:
        nobody.close()
