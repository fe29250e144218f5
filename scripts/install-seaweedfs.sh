#!/usr/bin/env bash
# Installs SeaweedFS's `weed` (the S3-compatible object store the tests and people run locally),
# pinned in stack/versions.env as SEAWEEDFS_VERSION (a Go module version), into the user's cache:
#   ${TICKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/tickwire}/bin/weed
# `go install weed@version` is refused (the module's go.mod has replace directives), so the module
# is downloaded into the cache's go/mod, copied somewhere writable and built in place. The pinned
# version is stamped into the binary (`weed version` ends with it), so a second run is a no-op
# that needs no Go. The build is bounded by TICKWIRE_SEAWEEDFS_TIMEOUT seconds (default 3600: about
# 5 minutes on 2 idle cores, far longer on a busy machine) and lands in bin/ by an atomic rename. Progress goes to stderr; stdout's last line is the binary.
# Needs Go (on PATH, or /usr/local/go/bin/go) at least as new as the module's go.mod asks for.
set -euo pipefail

script=install-seaweedfs
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

module=github.com/seaweedfs/seaweedfs
version="$(pinned SEAWEEDFS_VERSION)"
bin="$cache_root/bin"
weed="$bin/weed"
budget="${TICKWIRE_SEAWEEDFS_TIMEOUT:-3600}"

# True when the installed binary runs and reports the pinned version (stamped at build time).
up_to_date() {
  [[ -x $weed ]] && [[ "$("$weed" version 2>/dev/null || true)" == *" $version"* ]]
}

if up_to_date; then
  echo "$weed"
  exit 0
fi

go_cmd="$(command -v go || true)"
if [[ -z $go_cmd && -x /usr/local/go/bin/go ]]; then
  go_cmd=/usr/local/go/bin/go
fi
[[ -n $go_cmd ]] || die "'go' is not on PATH nor at /usr/local/go/bin/go"

mkdir -p "$bin"
exec 9>"$cache_root/.seaweedfs.lock"
flock 9
# Another run may have built it while this one waited for the lock.
if up_to_date; then
  echo "$weed"
  exit 0
fi
# Holding the lock, any staging directory left here belongs to a run that was killed.
rm -rf "$cache_root/.seaweedfs.tmp."*
work="$(mktemp -d "$cache_root/.seaweedfs.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP # so that the EXIT trap cleans up after a signal too

# Modules stay in tickwire's cache beside helm's and kustomize's (-modcacherw lets `rm -rf` remove
# them). The build cache (~1 GB) stays until a build succeeds, so a build that was interrupted or
# ran out of time resumes where it stopped. GOTOOLCHAIN=local: a pin that needs a newer Go fails
# here, naming the Go it needs, instead of fetching a toolchain.
build_cache="$cache_root/go/build-seaweedfs"
export GOMODCACHE="$cache_root/go/mod" GOCACHE="$build_cache"
export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0

log "building weed $version with $("$go_cmd" env GOVERSION) (about 5 minutes on a cold cache)"
module_dir="$("$go_cmd" mod download -json "$module@$version" |
  sed -n 's/^[[:space:]]*"Dir":[[:space:]]*"\(.*\)",*$/\1/p')"
[[ -d $module_dir ]] || die "go mod download $module@$version gave no module directory"
# The module cache is read-only by design; the build needs the module as its main module.
cp -r "$module_dir" "$work/src"
chmod -R u+w "$work/src"
# Go's "downloading ..." lines are noise on success and the evidence on failure.
if ! (cd "$work/src" && timeout "$budget" "$go_cmd" build -trimpath \
  -ldflags "-s -w -X $module/weed/util/version.COMMIT=$version" \
  -o "$work/weed" ./weed) >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log" >&2
  die "building weed $version failed or took over ${budget}s"
fi
mv -f "$work/weed" "$weed"
rm -rf "$build_cache"

up_to_date || die "the built weed does not report the pinned version $version"
log "weed $version installed"
echo "$weed"
