"""Heartbeats go out at most once per interval, carry the counters as they are at sending, and
never fail the service: a full queue or a failed delivery is logged and the next one replaces it."""

from tickwire_core.heartbeat import Heartbeats, LoopStats
from tickwire_core.serde import AvroSerde
from tickwire_testing.fakes import FakeProducer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def heartbeats(producer: FakeProducer, clock: Clock) -> Heartbeats:
    return Heartbeats(
        producer, AvroSerde(), "p.tickwire.status", "normalize", "n-1", every_s=5.0, clock=clock
    )


def decoded(producer: FakeProducer) -> list[dict]:
    serde = AvroSerde()
    return [serde.decode("heartbeat", value) for _topic, _key, value in producer.sent]


def test_one_heartbeat_per_interval_with_the_counters_of_its_time() -> None:
    producer, clock = FakeProducer(), Clock()
    beats = heartbeats(producer, clock)
    stats = LoopStats(circuit="closed")
    beats.maybe_send(stats)  # the first at once: the instance says it is up
    stats.rows_in, stats.rows_out, stats.lag = 10, 9, 4
    clock.now += 4.9
    beats.maybe_send(stats)
    assert len(producer.sent) == 1
    clock.now += 0.1
    beats.maybe_send(stats)
    sent = decoded(producer)
    assert [(b["rows_in"], b["rows_out"], b["lag"]) for b in sent] == [(0, 0, None), (10, 9, 4)]
    assert {(topic, key) for topic, key, _ in producer.sent} == {
        ("p.tickwire.status", b"normalize|n-1")
    }
    assert sent[1]["service"] == "normalize" and sent[1]["instance"] == "n-1"
    assert sent[1]["started_ts"] == stats.started_ts <= sent[1]["ts"]


def test_a_failed_batch_is_the_last_error_and_is_counted() -> None:
    producer = FakeProducer()
    stats = LoopStats()
    stats.failed("OperationalError: " + "x" * 2000)
    heartbeats(producer, Clock()).send_last(stats)
    (beat,) = decoded(producer)
    assert beat["batches_failed"] == 1
    assert beat["last_error"].startswith("OperationalError: x") and len(beat["last_error"]) == 500
    assert beat["last_error_ts"] == stats.last_error_ts is not None


def test_a_full_queue_or_a_failed_delivery_does_not_raise() -> None:
    producer = FakeProducer(queue_limit=0)
    beats = heartbeats(producer, Clock())
    beats.send(LoopStats())  # BufferError inside: logged, not raised
    assert producer.sent == []
    failing = FakeProducer(fail_with="broker down")
    heartbeats(failing, Clock()).send_last(LoopStats())
    assert len(failing.sent) == 1  # produced; its failed report was logged


def test_normalize_heartbeat_carries_its_unmapped_fields_as_they_grow() -> None:
    producer, clock = FakeProducer(), Clock()
    beats = heartbeats(producer, clock)
    counts: dict[str, dict[str, int]] = {}
    stats = LoopStats(unmapped_fields=counts)  # the same dict the normalize handler fills
    beats.send(stats)
    counts["deribit"] = {"params.data.new_field": 3}
    beats.send(stats)
    beats.send(LoopStats())  # another service's: none
    assert [b["unmapped_fields"] for b in decoded(producer)] == [
        {},
        {"deribit": {"params.data.new_field": 3}},
        None,
    ]
