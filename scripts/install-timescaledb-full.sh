#!/usr/bin/env bash
# Build the full TimescaleDB $TIMESCALEDB_VERSION (its Apache and Timescale License parts: the
# compression, continuous aggregates and policies) from the upstream source and install it beside
# the system's PostgreSQL, into a copy of that PostgreSQL in the cache:
#   ${TICKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tickwire}/
#     timescaledb-<version>-postgresql-<x.y>/usr/lib/postgresql/<major>/{bin,lib}
#                                           /usr/share/postgresql/<major>/
# The copy keeps Debian's /usr layout, so its binaries find their lib and share directories relative
# to themselves. Nothing under /usr is written: the system's PostgreSQL keeps the Apache build that
# install-timescaledb-apache.sh put there, and both can run side by side.
#
# The source, a tarball of the upstream tag whose sha256 is pinned (TIMESCALEDB_SOURCE_SHA256 in
# stack/versions.env), is looked for in $TICKWIRE_TIMESCALEDB_SOURCE, then as
# timescaledb-<version>.tar.gz in ../shared/vendor/ beside the clone, then in /work/shared/vendor/.
# None found: it says so and installs nothing (the local stack then runs the Apache build).
#
# Idempotent: the versioned files in the tree prove the install, and the tree is built in a
# temporary directory renamed into place, so an interrupted build leaves nothing that counts; a
# lock serialises concurrent runs. A new PostgreSQL minor version gets a tree of its own (a server
# may still run from the old one). Needs the system's PostgreSQL, its server headers and the build
# tools (install-timescaledb-apache.sh installs them); no root. The last line of stdout is the tree.
set -euo pipefail

script=install-timescaledb-full
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ts_version=$(pinned TIMESCALEDB_VERSION)
pg_major=$(pinned POSTGRES_MAJOR)
source_sha256=$(pinned TIMESCALEDB_SOURCE_SHA256)

system_bin=/usr/lib/postgresql/$pg_major/bin
[[ -x $system_bin/postgres && -x $system_bin/pg_config ]] ||
  die "PostgreSQL $pg_major is not installed ($system_bin); run install-timescaledb.sh"
pg_version=$("$system_bin/postgres" --version | sed -n 's/^postgres (PostgreSQL) \([0-9.]*\).*/\1/p')
[[ -n $pg_version ]] || die "cannot read the version of $system_bin/postgres"

tree=$cache_root/timescaledb-$ts_version-postgresql-$pg_version
bin=usr/lib/postgresql/$pg_major/bin
lib=usr/lib/postgresql/$pg_major/lib
share=usr/share/postgresql/$pg_major

# The versioned modules (the TSL one is what the Apache build lacks) and the install script.
is_installed() {
  [[ -x $1/$bin/postgres && -f $1/$lib/timescaledb-$ts_version.so &&
    -f $1/$lib/timescaledb-tsl-$ts_version.so && -f $1/$share/extension/timescaledb--$ts_version.sql ]]
}

if is_installed "$tree"; then
  log "the full TimescaleDB $ts_version for PostgreSQL $pg_version is installed in $tree"
  echo "$tree"
  exit 0
fi

find_source() {
  if [[ -n ${TICKWIRE_TIMESCALEDB_SOURCE:-} ]]; then
    [[ -f $TICKWIRE_TIMESCALEDB_SOURCE ]] ||
      die "TICKWIRE_TIMESCALEDB_SOURCE=$TICKWIRE_TIMESCALEDB_SOURCE is not a file"
    source_tarball=$TICKWIRE_TIMESCALEDB_SOURCE
    return 0
  fi
  local dir
  for dir in "$repo_root/../shared/vendor" /work/shared/vendor; do
    if [[ -f $dir/timescaledb-$ts_version.tar.gz ]]; then
      source_tarball=$(realpath "$dir/timescaledb-$ts_version.tar.gz")
      return 0
    fi
  done
  return 1
}
if ! find_source; then
  log "no full TimescaleDB source (TICKWIRE_TIMESCALEDB_SOURCE is unset; no" \
    "timescaledb-$ts_version.tar.gz in $repo_root/../shared/vendor or /work/shared/vendor):" \
    "only the Apache build is installed"
  exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.timescaledb-full.lock"
if ! flock -n 9; then
  log "another build is running (lock $cache_root/.timescaledb-full.lock); waiting for it"
  flock 9
fi
if is_installed "$tree"; then
  log "the full TimescaleDB $ts_version was installed meanwhile in $tree"
  echo "$tree"
  exit 0
fi

found_sha256=$(sha256sum "$source_tarball" | cut -d' ' -f1)
[[ $found_sha256 == "$source_sha256" ]] || die "$source_tarball has sha256 $found_sha256," \
  "but stack/versions.env pins TIMESCALEDB_SOURCE_SHA256=$source_sha256"

# Holding the lock, a staging directory left here belongs to a run that was killed.
rm -rf "$cache_root/.timescaledb-full.tmp."*
work=$(mktemp -d "$cache_root/.timescaledb-full.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP # so that the EXIT trap cleans up after a signal too
stage=$work/tree

log "copying PostgreSQL $pg_version (/usr/lib/postgresql/$pg_major, /usr/share/postgresql/$pg_major)"
mkdir -p "$stage/usr/lib/postgresql" "$stage/usr/share/postgresql"
cp -a "/usr/lib/postgresql/$pg_major" "$stage/usr/lib/postgresql/"
cp -a "/usr/share/postgresql/$pg_major" "$stage/usr/share/postgresql/"
# The copy holds the system's Apache build of TimescaleDB too: none of it may be mistaken for ours.
rm -f "$stage/$lib"/timescaledb*.so "$stage/$share/extension"/timescaledb*
# PostgreSQL finds its directories relative to its binary only when they share the configured
# prefix with it; a Debian build that stopped doing so would run the system's extensions.
[[ $("$stage/$bin/pg_config" --pkglibdir) == "$stage/$lib" &&
  $("$stage/$bin/pg_config" --sharedir) == "$stage/$share" ]] ||
  die "the copy of PostgreSQL in $stage does not find its own lib and share directories" \
    "($("$stage/$bin/pg_config" --pkglibdir), $("$stage/$bin/pg_config" --sharedir))"

log "unpacking $source_tarball"
mkdir -p "$work/src"
tar -xzf "$source_tarball" -C "$work/src" --strip-components=1
cd "$work/src"
# Built against the system's headers and pg_config (the copy has no include/), installed into the
# copy with DESTDIR: pg_config's /usr/... paths then land under the stage.
log "configuring against $("$system_bin/pg_config" --version), Timescale License part included"
# The tarball is no git checkout: without git, the build stamps no commit instead of asking git.
BUILD_FORCE_REMOVE=true ./bootstrap -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
  -DWARNINGS_AS_ERRORS=OFF -DUSE_TELEMETRY=OFF -DGENERATE_DOWNGRADE_SCRIPT=OFF \
  -DCMAKE_DISABLE_FIND_PACKAGE_Git=ON -DPG_CONFIG="$system_bin/pg_config"
log "building with $(nproc) jobs"
make -C build -j"$(nproc)"
make -C build install DESTDIR="$stage"
is_installed "$stage" || die "the build finished but $stage lacks timescaledb-tsl-$ts_version.so" \
  "or timescaledb--$ts_version.sql"

cd /
rm -rf "$tree" # an incomplete tree of this name (is_installed said so): nothing runs from it
mv "$stage" "$tree"
log "the full TimescaleDB $ts_version for PostgreSQL $pg_version is installed in $tree"
echo "$tree"
