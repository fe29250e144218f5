"""The history side end to end: normalize, sink and API as processes on the real stack, the
`tickwire backfill` command pointed at a local vendor server, and what the API then serves."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import psycopg

from tickwire_testing.cli import Tickwire, as_url
from tickwire_testing.processes import Service, base_env

# Zero pauses and short retry waits: the local server is no rate-limited vendor.
FAST_HISTORY = {
    "TICKWIRE_HISTORY_COINGECKO_PAUSE_S": "0",
    "TICKWIRE_HISTORY_RETRY_ATTEMPTS": "3",
    "TICKWIRE_HISTORY_RETRY_INITIAL_S": "0.01",
    "TICKWIRE_HISTORY_RETRY_MAX_S": "1",
    "TICKWIRE_HISTORY_RETRY_JITTER_S": "0",
    "TICKWIRE_HISTORY_TIMEOUT_S": "10",
}
URL_SETTINGS = {
    "yahoo": "TICKWIRE_HISTORY_YAHOO_URL",
    "coingecko": "TICKWIRE_HISTORY_COINGECKO_URL",
    "binance": "TICKWIRE_HISTORY_BINANCE_URL",
    "kraken": "TICKWIRE_HISTORY_KRAKEN_URL",
    "finra-short-volume": "TICKWIRE_HISTORY_FINRA_FILES_URL",
    "finra-short-interest": "TICKWIRE_HISTORY_FINRA_API_URL",
}


class HistoryPipeline:
    """normalize -> sink, and the API over the sink's database, each a process of its own."""

    def __init__(self, bootstrap: str, database_url: str, prefix: str, log_dir: Path) -> None:
        self.database_url = database_url
        env = {**base_env(bootstrap, database_url, prefix), "TICKWIRE_HEARTBEAT_S": "1"}
        self.normalize = Service(
            "tickwire_normalize",
            "normalize",
            log_dir,
            {**env, "TICKWIRE_CONSUMER_GROUP": f"{prefix}normalize"},
        )
        self.sink = Service(
            "tickwire_sink", "sink", log_dir, {**env, "TICKWIRE_CONSUMER_GROUP": f"{prefix}sink"}
        )
        self.api = Service("tickwire_api", "api", log_dir, {**env, "TICKWIRE_ALLOW_ANONYMOUS": "1"})
        # The API answers /readyz on its own port: the one Service polls.
        self.api.env.update(TICKWIRE_API_HOST="127.0.0.1", TICKWIRE_API_PORT=str(self.api.port))
        self.cli = Tickwire(
            {
                **os.environ,
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "DATABASE_URL": as_url(database_url),
                "TICKWIRE_TOPIC_PREFIX": prefix,
                **FAST_HISTORY,
            }
        )

    def start(self) -> HistoryPipeline:
        # The sink first: it applies the migrations the API's readiness and the command need.
        self.sink.start()
        self.normalize.start_async()
        self.api.start_async()
        self.normalize.wait_ready()
        self.api.wait_ready()
        return self

    def stop(self) -> dict[str, int | None]:
        return {s.name: s.stop() for s in (self.api, self.normalize, self.sink)}

    def backfill(self, vendor_url: str, source: str) -> Tickwire:
        """`tickwire backfill` with `source`'s address moved to the local vendor server."""
        return self.cli.with_env(**{URL_SETTINGS[source]: vendor_url})

    def get(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        url = f"http://127.0.0.1:{self.api.port}{path}?{query}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:  # the API's reason, not only its status
            raise AssertionError(f"{url}: {exc.code} {exc.read().decode()}") from None

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(query, params).fetchall()

    def rejects(self, provider: str) -> list[tuple[str, dict[str, Any]]]:
        """Reasons and raw payloads of the dead letters of `provider`'s history records."""
        from tickwire_core.serde import AvroSerde

        serde = AvroSerde()
        found = []
        for reason, payload in self.rows(
            "SELECT reason, payload FROM rejects ORDER BY source_partition, source_offset"
        ):
            raw = serde.decode("raw_tick", bytes(payload))
            if raw["provider"] == provider and raw.get("history"):
                found.append((reason, json.loads(raw["payload"])))
        return found
