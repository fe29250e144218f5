#!/usr/bin/env bash
# The test command: installs what is missing, then runs every tier (unit, integration, e2e)
# against a real Kafka broker and a real TimescaleDB that the suite starts itself (or the ones
# named by KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec python3 -m uv run --frozen pytest "$@"
