#!/usr/bin/env bash
# The test command: installs what is missing, then runs every tier (unit, integration, e2e, images)
# against a real Kafka broker and a real TimescaleDB that the suite starts itself (or the ones
# named by KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL; TICKWIRE_TEST_STACK, docs/testing.md). Extra
# arguments go to pytest; without any, one more integration pass follows with the broker and the
# database as containers
# (scripts/test-containers.sh), so that mode cannot rot.
set -euo pipefail

script=test
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$repo_root"
bash scripts/bootstrap.sh
# The images tier builds and runs containers: a runtime first (podman, where none works).
bash scripts/install-containers.sh >/dev/null
if (($#)); then
  exec python3 -m uv run --frozen pytest "$@"
fi
python3 -m uv run --frozen pytest
bash scripts/test-containers.sh
