#!/usr/bin/env bash
# The test command: installs what is missing, then runs every tier (unit, integration, e2e, images)
# against a real Kafka broker and a real TimescaleDB that the suite starts itself (or the ones
# named by KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The images tier builds and runs containers: a runtime first (podman, where none works).
bash scripts/install-containers.sh >/dev/null
exec python3 -m uv run --frozen pytest "$@"
