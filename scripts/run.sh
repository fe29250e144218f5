#!/usr/bin/env bash
# The run command: the whole pipeline on the simulator feed, with its own Kafka and TimescaleDB
# (unless KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL name others). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec python3 -m uv run --frozen tickwire run
