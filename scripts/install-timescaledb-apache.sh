#!/usr/bin/env bash
# Install PostgreSQL $POSTGRES_MAJOR and build TimescaleDB $TIMESCALEDB_VERSION (its Apache-licensed
# part) from Debian trixie's source package into the system's PostgreSQL; both versions come from
# stack/versions.env. Called by install-timescaledb.sh, which then builds the full TimescaleDB
# beside it (install-timescaledb-full.sh) when the full source is at hand.
#
# Idempotent: exits at once when the pinned TimescaleDB is installed for the pinned PostgreSQL.
# Otherwise it installs the missing Debian packages, fetches the source with a private apt
# configuration (a deb-src line for trixie on the machine's own Debian mirror; the machine's binary
# sources stay untouched, trixie's binaries need a newer glibc), caches the download under
#   ${TICKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tickwire}/timescaledb-src/
# and builds and installs it into PostgreSQL's directories. Needs root, or sudo without a password.
set -euo pipefail

script=install-timescaledb-apache
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ts_version=$(pinned TIMESCALEDB_VERSION)
pg_major=$(pinned POSTGRES_MAJOR)

pg_config=/usr/lib/postgresql/$pg_major/bin/pg_config
# Both files are versioned, so together they prove that this exact version is installed for this
# PostgreSQL (the loader timescaledb.so and the control file are shared by all versions).
installed_so=/usr/lib/postgresql/$pg_major/lib/timescaledb-$ts_version.so
installed_sql=/usr/share/postgresql/$pg_major/extension/timescaledb--$ts_version.sql

is_installed() {
  [[ -f $installed_so && -f $installed_sql && -x /usr/lib/postgresql/$pg_major/bin/postgres ]]
}

if is_installed; then
  log "TimescaleDB $ts_version for PostgreSQL $pg_major is installed ($installed_so); nothing to do"
  exit 0
fi

need_root "installing packages and writing to /usr/lib/postgresql"

cache=$cache_root/timescaledb-src
mkdir -p "$cache"
# Two test runs may start at once; the second waits and then finds the work done.
exec 9>"$cache/.lock"
if ! flock -n 9; then
  log "another install is running (lock $cache/.lock); waiting for it"
  flock 9
fi
if is_installed; then
  log "TimescaleDB $ts_version was installed meanwhile; nothing to do"
  exit 0
fi

log "installing TimescaleDB $ts_version for PostgreSQL $pg_major (work dir $cache)"

# --- Debian packages ---------------------------------------------------------------------------
packages=("postgresql-$pg_major" "postgresql-server-dev-$pg_major" cmake gcc make xz-utils)
missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$package")
done
if ((${#missing[@]})); then
  apt_install "${missing[@]}"
else
  log "Debian packages present: ${packages[*]}"
fi

# --- source download (cached) ------------------------------------------------------------------
# Prints "<URI> <keyring or empty>" of the machine's source entry for its own release (e.g.
# "bookworm", not "bookworm-security"), from deb822 *.sources files or one-line *.list files.
debian_mirror() {
  local codename file
  # shellcheck source=/dev/null
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [[ -n $codename ]] || return 1
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f $file ]] || continue
    awk -v want="$codename" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; suites = ""; keyring = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[ \t]*#/) continue
          key = tolower(line); sub(/:.*/, "", key)
          value = line; sub(/^[^:]*:[ \t]*/, "", value)
          if (key == "uris") uris = value
          else if (key == "suites") suites = value
          else if (key == "signed-by") keyring = value
          else if (key == "enabled") enabled = tolower(value)
        }
        if (enabled == "no") next
        n = split(suites, suite, /[ \t]+/)
        for (j = 1; j <= n; j++) {
          if (suite[j] != want) continue
          split(uris, uri, /[ \t]+/); print uri[1], keyring; found = 1; exit
        }
      }
      END { exit !found }' "$file" && return 0
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $file ]] || continue
    awk -v want="$codename" '
      $1 == "deb" || $1 == "deb-src" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == want) { print $i, ""; found = 1; exit }
      }
      END { exit !found }' "$file" && return 0
  done
  return 1
}

download=$cache/download
# The upstream tarball of any Debian revision: timescaledb_<version>[+dfsg].orig.tar.*
find_origs() {
  shopt -s nullglob
  local prefix=$download/timescaledb_$ts_version
  origs=("$prefix".orig.tar.* "$prefix"+*.orig.tar.*)
  shopt -u nullglob
}
find_origs
if ((${#origs[@]})); then
  log "using the cached source ${origs[0]}"
else
  read -r mirror keyring < <(debian_mirror) ||
    die "found no Debian source entry for this release in /etc/apt/sources.list{,.d/}"
  if [[ -z $keyring && -f /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  fi
  apt_dir=$cache/apt
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  printf 'deb-src %s%s trixie main\n' "${keyring:+[signed-by=$keyring] }" "$mirror" \
    >"$apt_dir/sources.list"
  # Only our sources, lists and cache: the machine's apt state is neither read nor changed.
  apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache")
  # The cache usually lies under root's home, which apt's unprivileged _apt user cannot enter.
  ((EUID == 0)) && apt_opts+=(-o "APT::Sandbox::User=root")

  log "refreshing trixie's source index: $(cat "$apt_dir/sources.list")"
  apt-get "${apt_opts[@]}" -q update
  available=$(apt-cache "${apt_opts[@]}" showsrc --only-source timescaledb |
    sed -n 's/^Version: //p' | sort -uV)
  [[ -n $available ]] || die "Debian trixie ($mirror) lists no timescaledb source package"
  # Any Debian revision of the pinned upstream version: we build the upstream tarball only.
  full_version=$(grep -E "^${ts_version//./\\.}(\+[^-]*)?-" <<<"$available" | tail -n 1 || true)
  [[ -n $full_version ]] || die "Debian trixie offers timescaledb ${available//$'\n'/ }," \
    "but stack/versions.env pins TIMESCALEDB_VERSION=$ts_version; set the pin to the offered" \
    "upstream version (the part before '+dfsg')"

  # Download into a scratch dir and move it into place, so an interrupted run caches nothing.
  staging=$cache/download.partial
  rm -rf "$staging"
  mkdir -p "$staging" "$download"
  log "apt-get source --download-only timescaledb=$full_version"
  (cd "$staging" && apt-get "${apt_opts[@]}" -q source --download-only "timescaledb=$full_version")
  mv "$staging"/* "$download"/
  rmdir "$staging"
  find_origs
  ((${#origs[@]})) || die "apt-get source left no timescaledb_$ts_version*.orig.tar.* in $download"
fi

# --- build and install -------------------------------------------------------------------------
# Only the upstream tarball is built: in 2.19.3+dfsg-1+deb13u1 Debian's patches touch just tests
# and a git hook (look at debian/patches when moving the pin).
src=$cache/build-$ts_version
rm -rf "$src"
mkdir -p "$src"
log "unpacking ${origs[0]} into $src"
tar -xf "${origs[0]}" -C "$src" --strip-components=1
cd "$src"
log "configuring against $($pg_config --version) ($pg_config)"
BUILD_FORCE_REMOVE=true ./bootstrap -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
  -DWARNINGS_AS_ERRORS=OFF -DUSE_TELEMETRY=OFF -DGENERATE_DOWNGRADE_SCRIPT=OFF \
  -DPG_CONFIG="$pg_config"
log "building with $(nproc) jobs"
make -C build -j"$(nproc)"
log "installing into $($pg_config --pkglibdir) and $($pg_config --sharedir)/extension"
"${as_root[@]}" make -C build install

is_installed || die "the build finished but $installed_so or $installed_sql is missing"
cd /
rm -rf "$src"
log "TimescaleDB $ts_version for PostgreSQL $pg_major installed (source kept in $download)"
