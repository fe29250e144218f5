"""The walking skeleton, black-box: ingest (simulator) -> normalize -> sink -> API, each a separate
process on the real broker and database. N simulated ticks in, exactly N rows out, served, and
every service's heartbeat in /v1/status with its counters."""

import json
import time
import urllib.request

import psycopg
import pytest

from tickwire_core.localstack.pipeline import Pipeline

pytestmark = pytest.mark.e2e

N = 5_000
BEAT = {"TICKWIRE_HEARTBEAT_S": "0.5"}


def status(api: str) -> dict[str, dict]:
    with urllib.request.urlopen(f"{api}/v1/status", timeout=10) as response:
        return {s["service"]: s for s in json.loads(response.read())["services"]}


def settled(services: dict[str, dict]) -> bool:
    """Every service has reported after the last tick went through."""
    return (
        set(services) == {"ingest", "normalize", "signals", "sink"}
        and services["normalize"]["rows_out"] == N
        and services["signals"]["rows_in"] == N
        and services["sink"]["lag"] == 0
    )


def rows(database_url: str) -> tuple[int, int]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*), count(DISTINCT (provider, instrument, kind, dedup_key, exchange_ts)) "
            "FROM ticks"
        ).fetchone()


def test_n_simulated_ticks_become_n_rows_served_by_the_api(
    stack, topic_prefix, database_url, tmp_path
) -> None:
    pipeline = Pipeline(
        tmp_path / "services",
        stack.kafka_bootstrap_servers,
        database_url,
        topic_prefix=topic_prefix,
        service_env={
            "ingest": {
                "TICKWIRE_SIM_COUNT": str(N),
                "TICKWIRE_SIM_RATE": "0",
                "TICKWIRE_SIM_FAULTS": "false",  # counts every tick: the clean feed
                "TICKWIRE_SIM_INSTRUMENTS": "E2E-A:100,E2E-B:20:0.05",
                **BEAT,
            },
            "normalize": {"TICKWIRE_CONSUMER_GROUP": f"{topic_prefix}normalize", **BEAT},
            "signals": {"TICKWIRE_CONSUMER_GROUP": f"{topic_prefix}signals", **BEAT},
            "sink": {"TICKWIRE_CONSUMER_GROUP": f"{topic_prefix}sink", **BEAT},
        },
    )
    pipeline.start()
    try:
        deadline = time.monotonic() + 120
        count = 0
        while time.monotonic() < deadline and count < N:
            time.sleep(0.5)
            count, _ = rows(database_url)
        time.sleep(3)  # anything extra (a duplicate, a replay) would land by now
        count, distinct = rows(database_url)
        assert (count, distinct) == (N, N)

        api = pipeline.urls()["api"]
        url = f"{api}/v1/ticks/latest?instrument=E2E-A&provider=simulator&limit=1000"
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.loads(response.read())
        with psycopg.connect(database_url) as conn:
            expected = [
                r[0]
                for r in conn.execute(
                    "SELECT venue_seq FROM ticks WHERE instrument = 'E2E-A' "
                    "ORDER BY exchange_ts DESC, dedup_key DESC LIMIT 1000"
                )
            ]
            per_instrument = dict(
                conn.execute(
                    "SELECT instrument, max(venue_seq) - min(venue_seq) + 1 - count(*) FROM ticks "
                    "GROUP BY instrument"
                ).fetchall()
            )
        assert body["count"] == len(expected) == 1000
        assert [t["venue_seq"] for t in body["ticks"]] == expected
        assert per_instrument == {"E2E-A": 0, "E2E-B": 0}  # no venue sequence missing

        deadline = time.monotonic() + 30
        services = status(api)
        while not settled(services) and time.monotonic() < deadline:
            time.sleep(0.5)
            services = status(api)
        assert services["ingest"]["instance"] == "simulator/primary"
        assert (services["ingest"]["rows_in"], services["ingest"]["rows_out"]) == (N, N)
        assert (services["normalize"]["rows_in"], services["normalize"]["rows_out"]) == (N, N)
        assert services["normalize"]["lag"] == 0
        assert services["signals"]["rows_in"] == N
        assert services["sink"]["lag"] == 0
        assert services["sink"]["rows_out"] >= N  # ticks, and the bars and signals made of them
        for name, service in services.items():
            assert service["alive"] and service["rows_refused"] == 0, (name, service)
            assert service["circuit"] in (None, "closed"), (name, service)
    finally:
        codes = pipeline.stop()
    assert codes == {"ingest": 0, "normalize": 0, "signals": 0, "sink": 0, "api": 0}
