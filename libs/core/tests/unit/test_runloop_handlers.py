from tickwire_core.batch import Consumed, Output, per_record
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
