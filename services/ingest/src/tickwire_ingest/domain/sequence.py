"""Sequence-gap detection shared by the venue protocols."""

from __future__ import annotations

from dataclasses import dataclass, field

from tickwire_ingest.domain.events import SEQUENCE, Gap


@dataclass
class SequenceTracker:
    """Remembers the last sequence number and receipt time per key (an instrument, or a whole
    connection) and reports a Gap when the next number is not last + step. Numbers at or below the
    last are repeats or reorders and are reported by `check` as not new."""

    step: int = 1
    _last: dict[str, tuple[int, int]] = field(default_factory=dict)

    def check(
        self, key: str, seq: int, received_ts: int, instrument: str | None = None
    ) -> tuple[bool, Gap | None]:
        """(is_new, gap): is_new is False for a number seen before; gap when some were skipped."""
        previous = self._last.get(key)
        if previous is not None and seq <= previous[0]:
            return False, None
        self._last[key] = (seq, received_ts)
        if previous is None or seq == previous[0] + self.step:
            return True, None
        last_seq, last_ts = previous
        expected = last_seq + self.step
        return True, Gap(
            instrument=instrument or key,
            reason=SEQUENCE,
            start_ts=last_ts,
            end_ts=received_ts,
            expected_seq=expected,
            received_seq=seq,
            lost=(seq - expected) // self.step,
            detail=f"{key}: expected {expected}, got {seq}",
        )

    def forget(self, key: str) -> None:
        self._last.pop(key, None)

    def reset(self) -> None:
        self._last.clear()
