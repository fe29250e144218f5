#!/usr/bin/env bash
# Makes sure a container runtime works, for `make images` and the image tests. Prints the command
# to use, `podman` or `docker`, as the last line of stdout; progress goes to stderr.
#
# A runtime counts when it answers `info` (a docker client without an engine does not). podman
# always reads the repository's own settings, deploy/images/containers.conf, through
# CONTAINERS_CONF; the machine's /etc/containers stays untouched. TICKWIRE_CONTAINER_RUNTIME
# (podman or docker) picks one; otherwise podman, then docker. When neither works, Debian's podman
# is installed with runc, netavark, aardvark-dns and iptables (which netavark's bridge needs);
# that needs root, or sudo without a password.
# mmdebstrap, which makes the base image where no registry answers (scripts/images.sh), comes
# along whenever it is missing. A second run with a working runtime is a no-op.
set -euo pipefail

script=install-containers
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

export CONTAINERS_CONF=$repo_root/deploy/images/containers.conf

works() { command -v "$1" >/dev/null && "$1" info >/dev/null 2>&1; }

# The runtime to use, or nothing.
pick() {
  local wanted=${TICKWIRE_CONTAINER_RUNTIME:-}
  if [[ -n $wanted ]]; then
    [[ $wanted == podman || $wanted == docker ]] ||
      die "TICKWIRE_CONTAINER_RUNTIME=$wanted: expected podman or docker"
    works "$wanted" && echo "$wanted"
    return 0
  fi
  if works podman; then
    echo podman
  elif works docker; then
    echo docker
  fi
}

missing_packages() {
  local package status
  for package in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    [[ $status == installed ]] || printf '%s\n' "$package"
  done
}

runtime=$(pick)
wanted=()
if [[ -z $runtime ]]; then
  [[ ${TICKWIRE_CONTAINER_RUNTIME:-podman} == podman ]] ||
    die "TICKWIRE_CONTAINER_RUNTIME=docker, but \`docker info\` fails: is its engine running?"
  # runc, not crun: crun refuses a hybrid cgroup layout (containers.conf says why).
  mapfile -t wanted < <(missing_packages podman runc netavark aardvark-dns iptables mmdebstrap)
else
  mapfile -t wanted < <(missing_packages mmdebstrap)
fi

if ((${#wanted[@]})); then
  command -v apt-get >/dev/null ||
    die "no working container runtime and no apt-get to install podman: install podman or docker"
  need_root "installing ${wanted[*]} with apt-get"
  mkdir -p "$cache_root"
  # dpkg allows one installer at a time: two runs starting together wait for each other here.
  exec 9>"$cache_root/.containers.lock"
  flock 9
  mapfile -t wanted < <(missing_packages "${wanted[@]}")
  if ((${#wanted[@]})); then
    apt_install "${wanted[@]}"
  fi
  [[ -n $runtime ]] || runtime=$(pick)
fi

[[ -n $runtime ]] || die "podman is installed but \`podman info\` fails; run it to see why"
echo "$runtime"
