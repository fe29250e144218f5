from tickwire_core.batch import Consumed, Output, event_time, per_record, reject
from tickwire_core.errors import RejectedRecord


def record(offset: int, value: dict[str, object]) -> Consumed:
    return Consumed("in", 0, offset, b"k", b"raw-%d" % offset, value)


def test_per_record_collects_outputs_rejects_and_bugs_without_stopping() -> None:
    def handle(rec: Consumed) -> list[Output]:
        if rec.value["x"] == "bad":
            raise RejectedRecord("crossed_market", "bid 2 > ask 1")
        if rec.value["x"] == "bug":
            raise ZeroDivisionError("oops")
        return [Output("out", rec.key, "tick", rec.value)]

    outcome = per_record(handle)(
        [
            record(0, {"x": "ok"}),
            record(1, {"x": "bad"}),
            record(2, {"x": "bug"}),
            record(3, {"x": "ok"}),
        ]
    )
    assert [o.value for o in outcome.outputs] == [{"x": "ok"}, {"x": "ok"}]
    assert [(r.offset, r.reason) for r in outcome.rejects] == [
        (1, "crossed_market"),
        (2, "handler_error"),
    ]
    assert outcome.rejects[0].raw == b"raw-1"
    assert outcome.rejects[1].message == "ZeroDivisionError: oops"


def test_the_time_a_record_describes_is_found_in_each_kind_of_record() -> None:
    assert event_time({"exchange_ts": 5, "received_ts": 9}) == 5  # a tick
    assert event_time({"start_ts": 6}) == 6  # a bar
    assert event_time({"ts": 7, "rule": "zscore"}) == 7  # an anomaly or a signal
    assert event_time({"trade_date": 2, "received_ts": 9}) == 2 * 86_400_000_000  # short volume
    assert event_time({"settlement_date": 1}) == 86_400_000_000  # short interest
    assert event_time({"exchange_ts": None, "instance": "x"}) is None


def test_a_reject_carries_what_it_is_about_only_when_told() -> None:
    bare = reject(record(4, {}), "undecodable", "not Avro")
    assert (bare.provider, bare.instrument, bare.event_ts) == (None, None, None)
    told = reject(record(4, {}), "crossed_market", "m", provider="p", instrument="i", event_ts=3)
    assert (told.provider, told.instrument, told.event_ts) == ("p", "i", 3)
