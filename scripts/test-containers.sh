#!/usr/bin/env bash
# One integration pass with the suite's stack as containers (TICKWIRE_TEST_STACK=containers), so
# that mode cannot rot: the sink's and normalize's integration tests, the compose roles' tests and
# those of the second server (the other TimescaleDB build's, a container too), against Kafka and
# TimescaleDB containers of the local images, through the Docker API. With
# podman, its Docker-compatible service is started here on a socket of this run's own and stopped
# on the way out; with docker, its engine's socket is used. `make test` runs it after the suite;
# extra arguments go to pytest.
set -euo pipefail

script=test-containers
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$repo_root"

# The full build's storage tests among them: the local TimescaleDB image carries that build, so
# timescale_server_url is the container itself.
paths=(
  services/sink/tests/integration
  services/normalize/tests/integration
  tests/deploy/test_compose_database_roles.py
  libs/testing/tests/integration/test_other_servers.py
)
started=$SECONDS
runtime=$(bash scripts/install-containers.sh | tail -n 1)
export CONTAINERS_CONF=$repo_root/deploy/images/containers.conf
# Fresh images first, outside pytest's timeouts: the session itself only builds missing ones, and
# images.sh may wait here for another build to finish.
bash scripts/images.sh kafka timescaledb >/dev/null
# The Apache-only build's image too, for the tests of that path (the stack's second server).
TICKWIRE_TIMESCALEDB_LICENSE=apache bash scripts/images.sh timescaledb >/dev/null

if [[ $runtime == podman ]]; then
  # A socket of this run's own: another run's service, or the machine's, is left alone.
  run_dir=$(mktemp -d)
  socket=$run_dir/podman.sock
  podman system service --time=0 "unix://$socket" >"$run_dir/service.log" 2>&1 &
  service=$!
  trap 'kill "$service" 2>/dev/null || true; wait "$service" 2>/dev/null || true; rm -rf "$run_dir"' EXIT
  for _ in $(seq 100); do
    [[ -S $socket ]] && break
    sleep 0.1
  done
  [[ -S $socket ]] || die "podman's service opened no socket: $(tail -n 5 "$run_dir/service.log")"
  export DOCKER_HOST=unix://$socket
  log "podman's Docker API on $DOCKER_HOST (pid $service)"
fi

# The addresses a CI run may give the main suite would contradict this mode.
status=0
env -u KAFKA_BOOTSTRAP_SERVERS -u DATABASE_URL TICKWIRE_TEST_STACK=containers \
  python3 -m uv run --frozen pytest "${paths[@]}" "$@" || status=$?
log "the containers pass took $((SECONDS - started)) s"
exit "$status"
