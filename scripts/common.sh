# shellcheck shell=bash disable=SC2034  # cache_root and as_root are for the scripts that source it
# Sourced by the install scripts, after they set `script` (their name in messages): logging,
# the versions pinned in stack/versions.env, the cache folder outside the clone, and how to run a
# command as root.
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache_root=${TICKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tickwire}

# shellcheck disable=SC2154  # each sourcing script sets it first
log() { printf '%s %s: %s\n' "$(date +%H:%M:%S)" "$script" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The value of KEY in stack/versions.env: parsed, not sourced (as tickwire_core reads it too).
pinned() {
  local value
  value=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\([^[:space:]#]*\).*/\1/p" \
    "$repo_root/stack/versions.env" | tail -n 1)
  [[ -n $value ]] || die "$1 is not set in stack/versions.env"
  printf '%s' "$value"
}

# Sets the array as_root to what runs a command as root (nothing when we are root, else sudo -n),
# or stops saying what needs it.
need_root() {
  if ((EUID == 0)); then
    as_root=()
  elif command -v sudo >/dev/null; then
    as_root=(sudo -n)
  else
    die "$1 needs root or sudo"
  fi
}

# Installs Debian packages without their recommends, as root (need_root first): refreshes apt's
# lists where there are none yet, and once more when the install fails, since stale lists name
# package versions the mirror no longer has.
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    log "apt has no package lists yet: apt-get update"
    "${as_root[@]}" apt-get update -qq
  fi
  log "apt-get install $*"
  if ! "${as_root[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
    log "apt-get install failed; retrying after apt-get update (the lists may be stale)"
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}
