#!/usr/bin/env bash
# Installs everything tickwire needs on a fresh machine, idempotently: uv (pinned), the locked
# Python environment (.venv), the Kafka broker's jars, PostgreSQL with TimescaleDB, and the tools
# the tests run: Chromium, helm and kustomize, SeaweedFS (the S3 store), Apache Airflow.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9

# uv is called as a module of the machine's python3, so no PATH or shim set-up is needed.
if [ "$(python3 -m uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    echo "bootstrap: installing uv $UV_VERSION"
    python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

echo "bootstrap: Python environment from uv.lock"
python3 -m uv sync --frozen --quiet

echo "bootstrap: Kafka"
bash scripts/install-kafka.sh >/dev/null
# The tools: the local broker's guard against hanging transactions runs kafka-transactions' check.
bash scripts/install-kafka.sh tools >/dev/null
echo "bootstrap: PostgreSQL + TimescaleDB"
bash scripts/install-timescaledb.sh
echo "bootstrap: Chromium (the dashboard's browser test)"
bash scripts/install-chromium.sh
echo "bootstrap: helm and kustomize (the deploy checks)"
bash scripts/install-deploy-tools.sh >/dev/null
echo "bootstrap: SeaweedFS (the S3-compatible store of the lake's tests; minutes on a cold cache)"
bash scripts/install-seaweedfs.sh >/dev/null
echo "bootstrap: Apache Airflow (the example DAG's check, in an environment of its own)"
bash scripts/install-airflow.sh >/dev/null
