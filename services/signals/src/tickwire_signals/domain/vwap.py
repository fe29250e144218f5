"""The rolling VWAP window: notional and volume of the used trades per finest bar, so a window of
N seconds costs N / bar interval entries whatever the trade rate."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from tickwire_signals.domain.packing import pack_floats, pack_ints, unpack_floats, unpack_ints


class VwapWindow:
    __slots__ = ("notionals", "starts", "volumes")

    def __init__(self, size: int) -> None:
        # Parallel deques, oldest bar first: start_ts, sum of price * volume, sum of volume.
        self.starts: deque[int] = deque(maxlen=size)
        self.notionals: deque[float] = deque(maxlen=size)
        self.volumes: deque[float] = deque(maxlen=size)

    def __len__(self) -> int:
        return len(self.starts)

    def add(self, start_ts: int, notional: float, volume: float) -> None:
        self.starts.append(start_ts)
        self.notionals.append(notional)
        self.volumes.append(volume)

    def value_since(self, since_ts: int) -> float | None:
        """VWAP of the bars starting at or after since_ts (older ones are dropped for good);
        None without volume."""
        starts = self.starts
        while starts and starts[0] < since_ts:
            starts.popleft()
            self.notionals.popleft()
            self.volumes.popleft()
        volume = math.fsum(self.volumes)
        return math.fsum(self.notionals) / volume if volume > 0.0 else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.starts.maxlen,
            "starts": pack_ints(self.starts),
            "notionals": pack_floats(self.notionals),
            "volumes": pack_floats(self.volumes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VwapWindow:
        window = cls(int(data["size"]))
        window.starts.extend(unpack_ints(data["starts"]))
        window.notionals.extend(unpack_floats(data["notionals"]))
        window.volumes.extend(unpack_floats(data["volumes"]))
        return window
