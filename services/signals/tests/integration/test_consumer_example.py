"""The consumer example in examples/ decodes what the service's serde writes, on the real broker:
what the docs show an outside consumer doing actually works."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tickwire_core.localstack._process import REPO_ROOT
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import SIGNALS
from tickwire_testing.kafka import produce

pytestmark = pytest.mark.integration


def test_the_example_consumer_decodes_signals(stack, topic_prefix) -> None:
    serde = AvroSerde()
    sent = [
        {
            "provider": "binance",
            "instrument": "BTC-USDT",
            "ts": 1_800_000_000_000_000 + i,
            "name": "sma_20",
            "value": 65_000.5 + i,
            "parameters": {"interval": "1m", "window": "20"},
        }
        for i in range(3)
    ]
    produce(
        stack.kafka_bootstrap_servers,
        topic_prefix + SIGNALS,
        [(b"binance|BTC-USDT", serde.encode("signal", s)) for s in sent],
    )
    done = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "examples" / "consume_signals.py"),
            "--bootstrap-servers",
            stack.kafka_bootstrap_servers,
            "--topic",
            topic_prefix + SIGNALS,
            "--schema",
            str(REPO_ROOT / "schemas" / "signal.avsc"),
            "--max",
            "3",
            "--idle",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    got = [json.loads(line) for line in done.stdout.splitlines()]
    assert [g.pop("key") for g in got] == ["binance|BTC-USDT"] * 3
    # fastavro honours the schema's timestamp-micros: times arrive as timezone-aware datetimes.
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for g in got:
        g["ts"] = (datetime.fromisoformat(g["ts"]) - epoch) // timedelta(microseconds=1)
    assert got == sent
