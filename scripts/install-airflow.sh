#!/usr/bin/env bash
# Installs Apache Airflow and the providers the example DAG (examples/airflow/) imports, pinned in
# stack/versions.env, into a virtual environment of their own in the user's cache, outside the
# clone, so Airflow's dependencies never meet the workspace's:
#   ${TICKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/tickwire}/airflow/<AIRFLOW_VERSION>/
# Airflow's published constraints files are not on PyPI, the one index this needs: uv resolves
# Airflow's dependencies itself, as PyPI served them at AIRFLOW_RESOLVED_AT, so every machine gets
# the same set. The environment is marked done only after a whole install, with the pins it was
# made from: a second run is a no-op, a new pin installs afresh. Bounded by
# TICKWIRE_AIRFLOW_TIMEOUT seconds (default 900). Progress goes to stderr; stdout's last line is
# the environment's folder (its python is bin/python).
# Needs uv as a module of python3 (scripts/bootstrap.sh installs it).
set -euo pipefail

script=install-airflow
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

airflow_version=$(pinned AIRFLOW_VERSION)
requirements=(
  "apache-airflow==$airflow_version"
  "apache-airflow-providers-cncf-kubernetes==$(pinned AIRFLOW_PROVIDERS_CNCF_KUBERNETES_VERSION)"
  "apache-airflow-providers-standard==$(pinned AIRFLOW_PROVIDERS_STANDARD_VERSION)"
)
resolved_at=$(pinned AIRFLOW_RESOLVED_AT)
venv="$cache_root/airflow/$airflow_version"
stamp="$venv/.tickwire-installed"
wanted="${requirements[*]} resolved-at=$resolved_at"
budget=${TICKWIRE_AIRFLOW_TIMEOUT:-900}

installed() { [[ -x $venv/bin/python && -f $stamp && "$(cat "$stamp")" == "$wanted" ]]; }

if installed; then
  echo "$venv"
  exit 0
fi

python3 -m uv --version >/dev/null 2>&1 || die "uv is not installed for python3: run scripts/bootstrap.sh"

mkdir -p "$cache_root/airflow"
exec 9>"$cache_root/airflow/.lock"
flock 9
# Another run may have installed it while this one waited for the lock.
if installed; then
  echo "$venv"
  exit 0
fi

log "installing Airflow $airflow_version into $venv (under a minute on a cold cache)"
started=$SECONDS
# Whatever is there lacks the stamp: a killed install or older pins; start clean.
rm -rf "$venv"
export UV_PYTHON_DOWNLOADS=never
python3 -m uv venv --quiet --python "$(command -v python3)" "$venv"
if ! timeout "$budget" python3 -m uv pip install --quiet --python "$venv/bin/python" \
  --exclude-newer "$resolved_at" "${requirements[@]}"; then
  die "installing Airflow $airflow_version failed or took over ${budget}s"
fi
printf '%s' "$wanted" >"$stamp"
log "Airflow $airflow_version installed in $((SECONDS - started))s"
echo "$venv"
