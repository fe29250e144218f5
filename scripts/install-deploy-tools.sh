#!/usr/bin/env bash
# Installs the Kubernetes deploy tools pinned in stack/versions.env (HELM_VERSION,
# KUSTOMIZE_VERSION) into the user's cache, outside the clone:
#   ${TICKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/tickwire}/bin/{helm,kustomize}
# Both are built from source with `go install` from the Go module proxy (downloaded modules are
# kept under the same cache, in go/mod). A binary that reports the pinned version is kept, so a
# second run is a no-op (and needs no Go); a new pin rebuilds only that tool. Each build is bounded
# by TICKWIRE_DEPLOY_TOOLS_TIMEOUT seconds (default 1800) and lands in bin/ by an atomic rename, so
# an interrupted run never leaves half a binary. Progress goes to stderr; stdout's last line is
# bin/.
# Needs Go (on PATH, or /usr/local/go/bin/go) at least as new as the tools' go.mod files ask for.
set -euo pipefail

script=install-deploy-tools
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

helm_version="$(pinned HELM_VERSION)"
kustomize_version="$(pinned KUSTOMIZE_VERSION)"
bin="$cache_root/bin"
budget="${TICKWIRE_DEPLOY_TOOLS_TIMEOUT:-1800}"

# The version an installed binary reports, or nothing when it is missing or broken.
installed_version() {
    [[ -x "$bin/$1" ]] || return 0
    case "$1" in
        helm) "$bin/helm" version --template '{{.Version}}' 2>/dev/null || true ;;
        kustomize) "$bin/kustomize" version 2>/dev/null || true ;;
    esac
}

up_to_date() {
    [[ "$(installed_version helm)" == "$helm_version" ]] &&
        [[ "$(installed_version kustomize)" == "$kustomize_version" ]]
}

if up_to_date; then
    echo "$bin"
    exit 0
fi

go_cmd="$(command -v go || true)"
if [[ -z "$go_cmd" && -x /usr/local/go/bin/go ]]; then
    go_cmd=/usr/local/go/bin/go
fi
if [[ -z "$go_cmd" ]]; then
    echo "install-deploy-tools: 'go' is not on PATH nor at /usr/local/go/bin/go" >&2
    exit 1
fi

mkdir -p "$bin"
exec 9>"$cache_root/.deploy-tools.lock"
flock 9
# Holding the lock, any staging directory left here belongs to a run that was killed.
rm -rf "$cache_root/.deploy-tools.tmp."*
work="$(mktemp -d "$cache_root/.deploy-tools.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP  # so that the EXIT trap cleans up after a signal too

# Downloaded modules stay in tickwire's cache (-modcacherw lets `rm -rf` remove them); the build
# cache (~800 MB for helm) is thrown away with the staging directory: only a new pin needs it.
# GOTOOLCHAIN=local: a pin that needs a newer Go fails here, naming the Go it needs, instead of
# fetching a toolchain.
export GOMODCACHE="$cache_root/go/mod" GOCACHE="$work/go-build" GOBIN="$work"
export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0

build() {
    local name="$1" package="$2" version="$3" ldflags="$4"
    if [[ "$(installed_version "$name")" == "$version" ]]; then
        return 0
    fi
    echo "install-deploy-tools: building $name $version with $("$go_cmd" env GOVERSION)" \
        "(minutes on a cold cache)" >&2
    # Go's "downloading ..." lines are noise on success and the evidence on failure.
    if ! timeout "$budget" "$go_cmd" install -trimpath -ldflags "$ldflags" "$package@$version" \
        >"$work/$name.log" 2>&1; then
        tail -n 40 "$work/$name.log" >&2
        echo "install-deploy-tools: building $name $version failed or took over ${budget}s" >&2
        exit 1
    fi
    mv -f "$work/$name" "$bin/$name"
}

# helm reports its version from an ldflag; without it `helm version` says only the minor release.
# kustomize reads its own from the module information Go embeds.
build helm helm.sh/helm/v3/cmd/helm "$helm_version" \
    "-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
build kustomize sigs.k8s.io/kustomize/kustomize/v5 "$kustomize_version" "-s -w"

if ! up_to_date; then
    echo "install-deploy-tools: the built binaries do not report the pinned versions" >&2
    exit 1
fi
echo "$bin"
