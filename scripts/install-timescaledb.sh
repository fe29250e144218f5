#!/usr/bin/env bash
# PostgreSQL $POSTGRES_MAJOR with TimescaleDB $TIMESCALEDB_VERSION (stack/versions.env), in two builds:
# - the Apache-licensed part from Debian trixie's source package, into the system's PostgreSQL
#   (install-timescaledb-apache.sh; needs root or password-less sudo the first time);
# - the full TimescaleDB (Timescale License part included) from the pinned upstream source where it
#   is at hand, into a copy of that PostgreSQL in the cache (install-timescaledb-full.sh).
# The local stack runs the full build when it is installed and the Apache one on request
# (TICKWIRE_TIMESCALEDB_LICENSE). Each step is idempotent and returns at once when done.
set -euo pipefail

here=$(dirname "${BASH_SOURCE[0]}")
bash "$here/install-timescaledb-apache.sh"
bash "$here/install-timescaledb-full.sh" >/dev/null
