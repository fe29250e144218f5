"""The nightly backfill file: [[job]] tables read whole, each mistake named with its job."""

from __future__ import annotations

import pytest

from tickwire_ingest.domain.history.config import Job, parse_jobs
from tickwire_ingest.domain.history.plan import PlanError

DAY = 86_400_000_000

NIGHTLY = """
[[job]]
source = "yahoo"
instruments = ["AAPL", "MSFT"]
interval = "1d"
since = 1970-01-11

[[job]]
source = "binance"
instruments = "BTCUSDT, ETHUSDT"
trades = true
since = "1970-01-02T00:00:00Z"

[[job]]
source = "finra-short-volume"
"""


def test_every_job_is_read_in_order() -> None:
    assert parse_jobs(NIGHTLY) == [
        Job("yahoo", ("AAPL", "MSFT"), interval="1d", since=10 * DAY),
        Job("binance", ("BTCUSDT", "ETHUSDT"), trades=True, since=DAY),
        Job("finra-short-volume", ()),
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "no [[job]] tables"),
        ("[[job]]\ninstruments = ['A']", "job 1: `source` is required"),
        ("[[job]]\nsource = 'yahoo'\ninterval = '2d'", "job 1: interval '2d'"),
        ("[[job]]\nsource = 'a'\n[[job]]\nsource = 'b'\nsince = 'never'", "job 2: since 'never'"),
        ("[[job]]\nsource = 'a'\ninstrument = 'X'", "job 1: unknown key 'instrument'"),
        ("[[job]]\nsource = 'a'\ntrades = 'yes'", "job 1: `trades` is true or false"),
        ("[jobs]\nsource = 'a'", "unknown table or key 'jobs'"),
        ("[[job]\n", "not TOML"),
    ],
)
def test_a_mistake_is_named_with_its_job(text: str, error: str) -> None:
    with pytest.raises(PlanError, match=error.replace("[", r"\[").replace("]", r"\]")):
        parse_jobs(text, "nightly.toml")
