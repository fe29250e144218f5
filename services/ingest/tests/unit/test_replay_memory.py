import gzip
import json
import tracemalloc
from pathlib import Path

import pytest

from tickwire_ingest.adapters.replay_file import ReplayFile
from tickwire_ingest.domain.events import VenueMessage

T0 = 1_700_000_000_000_000
LINES = 12_000
PEAK_BOUND = 1 << 20  # bytes; the file is over 30 times larger


LEVELS = json.dumps([[f"{65000 + k / 10:.1f}", f"{1 + k / 100:.8f}"] for k in range(40)])


def depth_line(i: int) -> str:
    """A 40-level book snapshot, about 2.6 kB a line, each line different."""
    payload = f'{{"lastUpdateId":{i},"bids":{LEVELS},"asks":{LEVELS}}}'
    record = {
        "provider": "binance",
        "feed": "depth20",
        "instrument": "BTCUSDT",
        "received_ts": T0 + i,
        "payload": payload,
    }
    return json.dumps(record) + "\n"


@pytest.mark.parametrize("compress", [False, True])
def test_a_file_far_larger_than_the_memory_bound_streams_through_it(
    tmp_path: Path, compress: bool
) -> None:
    path = tmp_path / "big.jsonl"
    with gzip.open(path, "wt", compresslevel=1) if compress else path.open("w") as f:
        size = sum(f.write(depth_line(i)) for i in range(LINES))
    assert size > 30 * PEAK_BOUND

    count = total = 0
    tracemalloc.start()
    try:
        for item in ReplayFile(path):
            assert isinstance(item, VenueMessage)
            count += 1
            total += item.received_ts - T0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (count, total) == (LINES, LINES * (LINES - 1) // 2)
    assert peak < PEAK_BOUND
