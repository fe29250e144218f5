#!/usr/bin/env bash
# Builds tickwire's container images with podman or docker (whichever works, installing podman
# when neither does): the five services, the batch jobs' image, the test runner, and Kafka and
# TimescaleDB for machines that cannot pull apache/kafka and timescale/timescaledb. docs/deploy/images.md lists them.
#
# The service and test images build on the pinned public Python image where a registry answers,
# else on a Debian base made here from Debian's archive with mmdebstrap. TICKWIRE_BASE_IMAGE
# overrides the choice: `local` for the Debian base, or any image name. The host's CA bundle
# (TICKWIRE_BUILD_CA, default /etc/ssl/certs/ca-certificates.crt; empty for none) reaches the
# builds' package downloads as a build secret, so a TLS-intercepting proxy works and no layer
# keeps it. Each image is rebuilt only when its inputs change (a content key per image under the
# cache's images/ folder); the runtime's layer cache and uv's cache mount make rebuilds short.
# Prints one line per image, `<tag> <image id>`, on stdout; progress goes to stderr.
# Arguments name the images to build (ingest normalize signals sink api jobs tests kafka
# timescaledb); none means all of them. The suite's container stack asks for `kafka timescaledb`.
set -euo pipefail

script=images
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

runtime=$(bash "$repo_root/scripts/install-containers.sh" | tail -n 1)
export CONTAINERS_CONF=$repo_root/deploy/images/containers.conf
cd "$repo_root"

services=(ingest normalize signals sink api)
names=("${services[@]}" jobs tests kafka timescaledb)
for name in "$@"; do
  [[ " ${names[*]} " == *" $name "* ]] || die "no image named $name (the images: ${names[*]})"
done
requested=("$@")
wanted() { ((${#requested[@]} == 0)) || [[ " ${requested[*]} " == *" $1 "* ]]; }
suite=bookworm
# What the Dockerfiles' stages need from a base: Python 3.11 with pip (for uv), `python` on PATH,
# the public CAs, /etc/services and the zone database, as the public Python image has them.
base_packages=ca-certificates,netbase,tzdata,python3.11,python3-pip,python-is-python3
local_base=localhost/tickwire-base:$suite
kafka_version=$(pinned KAFKA_VERSION)
ts_version=$(pinned TIMESCALEDB_VERSION)
pg_major=$(pinned POSTGRES_MAJOR)

keys=$cache_root/images
mkdir -p "$keys"
# Two runs at once would build the same images twice; the second waits and finds them fresh.
exec 9>"$keys/.lock"
flock 9

image_id() { "$runtime" image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

# A short hash of the named files and folders as the clone holds them (tracked and untracked,
# without what .gitignore leaves out), plus any extra words.
content_key() {
  local words=$1 file
  shift
  {
    printf '%s\n' "$words"
    git ls-files -z --cached --others --exclude-standard -- "$@" |
      while IFS= read -r -d '' file; do
        # A tracked file deleted in the work tree is listed too, and is not in the context.
        if [[ -f $file ]]; then sha256sum "$file"; fi
      done
  } | sha256sum | cut -c1-16
}

# Whether TAG was built from KEY and is still there.
fresh() {
  local tag=$1 key=$2 id
  id=$(image_id "$tag")
  [[ -n $id && -f $keys/${tag//[:\/]/_} && $(<"$keys/${tag//[:\/]/_}") == "$key $id" ]]
}

remember() { printf '%s %s\n' "$2" "$(image_id "$1")" >"$keys/${1//[:\/]/_}"; }

# podman keeps HEALTHCHECK only in Docker's image format; docker needs BuildKit for secrets and
# named build contexts.
build_cmd=("$runtime" build --quiet)
if [[ $runtime == podman ]]; then
  build_cmd+=(--format docker)
else
  export DOCKER_BUILDKIT=1
fi
ca=${TICKWIRE_BUILD_CA-/etc/ssl/certs/ca-certificates.crt}
if [[ -n $ca ]]; then
  [[ -f $ca ]] || die "TICKWIRE_BUILD_CA=$ca: no such file"
  build_cmd+=(--secret "id=build-ca,src=$ca")
fi

# build TAG KEY BUILD-ARGUMENTS...: runs the build unless TAG is fresh. The image it replaces under
# TAG is removed, unless something still uses it (a container, another tag, a child image): left
# alone, every rebuild would keep a nameless image of up to 2 GB. The layers the new image shares
# with it stay, and with them the cache that keeps rebuilds short.
build() {
  local tag=$1 key=$2 started replaced
  shift 2
  if fresh "$tag" "$key"; then
    log "$tag is up to date"
  else
    started=$SECONDS
    replaced=$(image_id "$tag")
    log "building $tag"
    "${build_cmd[@]}" --tag "$tag" "$@" >/dev/null
    remember "$tag" "$key"
    log "built $tag in $((SECONDS - started)) s"
    if [[ -n $replaced && $replaced != "$(image_id "$tag")" ]]; then
      "$runtime" image rm "$replaced" >/dev/null 2>&1 || log "kept the image $tag replaced: in use"
    fi
  fi
  printf '%s %s\n' "$tag" "$(image_id "$tag")"
}

# The Debian base: a minimal root filesystem from the archive, imported as an image.
debian_base() {
  local recipe="mmdebstrap --variant=minbase --include=$base_packages $suite"
  # No documentation, manuals or translations (dpkg's patterns have no braces); the licences stay.
  local docs
  for docs in doc man info locale; do
    recipe+=" --dpkgopt=path-exclude=/usr/share/$docs/*"
  done
  recipe+=" --dpkgopt=path-include=/usr/share/doc/*/copyright"
  if fresh "$local_base" "$recipe"; then
    return 0
  fi
  command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (scripts/install-containers.sh installs it)"
  log "making $local_base from Debian's archive: $recipe"
  # Only the imported image is kept: the tarball goes with the script's exit, whatever happens.
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # shellcheck disable=SC2086  # the recipe is a list of words
  $recipe "$work/rootfs.tar" 2>"$work/mmdebstrap.log" || {
    tail -n 20 "$work/mmdebstrap.log" >&2
    die "mmdebstrap failed"
  }
  "$runtime" import --quiet --change "ENV=LANG=C.UTF-8" \
    --change "ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "$work/rootfs.tar" "$local_base" >/dev/null
  rm -rf "$work"
  remember "$local_base" "$recipe"
}

# The pinned public Python image if it is here or can be pulled, else the Debian base.
python_base() {
  local public wanted=${TICKWIRE_BASE_IMAGE:-}
  public=$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile)
  if [[ $wanted == local ]]; then
    debian_base && echo "$local_base"
  elif [[ -n $wanted ]]; then
    echo "$wanted"
  elif [[ -n $(image_id "$public") ]] || "$runtime" pull --quiet "$public" >/dev/null 2>&1; then
    echo "$public"
  else
    log "no registry answers for $public: building on $local_base instead"
    debian_base && echo "$local_base"
  fi
}

python_images=()
for name in "${services[@]}" jobs tests; do
  if wanted "$name"; then python_images+=("$name"); fi
done
if ((${#python_images[@]})); then
  base=$(python_base)
  base_id=$(image_id "$base")
fi
for service in "${services[@]}"; do
  wanted "$service" || continue
  key=$(content_key "$base_id $service" Dockerfile .dockerignore pyproject.toml uv.lock libs services schemas)
  build "tickwire-$service:latest" "$key" --build-arg "BASE_IMAGE=$base" \
    --build-arg "SERVICE=$service" --file Dockerfile .
done
# The batch jobs (lake export, quality report): no service of their own, the image runs `tickwire`.
if wanted jobs; then
  key=$(content_key "$base_id jobs" Dockerfile .dockerignore pyproject.toml uv.lock libs services schemas)
  build tickwire-jobs:latest "$key" --build-arg "BASE_IMAGE=$base" --build-arg SERVICE=jobs \
    --build-arg SERVICE_MODULE=tickwire_cli --file Dockerfile .
fi

if wanted tests; then
  tests_ignore=deploy/compose/tests.Dockerfile.dockerignore
  ignore_flag=()
  # BuildKit finds <Dockerfile>.dockerignore by itself; podman is told.
  [[ $runtime == podman ]] && ignore_flag=(--ignorefile "$tests_ignore")
  build tickwire-tests:latest "$(content_key "$base_id tests" .)" --build-arg "BASE_IMAGE=$base" \
    "${ignore_flag[@]}" --file deploy/compose/tests.Dockerfile .
fi

wanted kafka || wanted timescaledb || exit 0
# Kafka and TimescaleDB always build on the Debian base: they are for machines without a registry.
debian_base
debian_id=$(image_id "$local_base")

if wanted kafka; then
  kafka_home=$(bash scripts/install-kafka.sh | tail -n 1)
  build "tickwire-kafka:$kafka_version" \
    "$(content_key "$debian_id $kafka_home $(ls "$kafka_home/libs")" deploy/images/kafka)" \
    --build-arg "BASE_IMAGE=$local_base" --build-context "kafka-libs=$kafka_home" \
    --file deploy/images/kafka/Dockerfile deploy/images/kafka
fi

wanted timescaledb || exit 0
# TimescaleDB as scripts/install-timescaledb.sh installed it on this machine, in the build the local
# stack runs (TICKWIRE_TIMESCALEDB_LICENSE, docs/local-stack.md): by default the full one where it
# is installed, else the Apache-only one. Its module(s) and extension scripts, gathered into a
# context of their own. The Apache-only image's tag says so, and a label says which build any is.
license=${TICKWIRE_TIMESCALEDB_LICENSE:-}
[[ $license == "" || $license == timescale || $license == apache ]] ||
  die "TICKWIRE_TIMESCALEDB_LICENSE=$license is neither timescale nor apache"
bash scripts/install-timescaledb-apache.sh
pg_config=/usr/lib/postgresql/$pg_major/bin/pg_config
if [[ $license != apache ]]; then
  full_tree=$(bash scripts/install-timescaledb-full.sh | tail -n 1)
  if [[ -n $full_tree ]]; then
    license=timescale
    pg_config=$full_tree/usr/lib/postgresql/$pg_major/bin/pg_config
  elif [[ $license == timescale ]]; then
    die "TICKWIRE_TIMESCALEDB_LICENSE=timescale needs the full TimescaleDB build, which" \
      "scripts/install-timescaledb-full.sh could not install (no source found)"
  else
    log "no full TimescaleDB build: the image carries the Apache-only one"
    license=apache
  fi
fi
ts_tag=tickwire-timescaledb:$ts_version-pg$pg_major
[[ $license == apache ]] && ts_tag+=-apache
ts_context=$keys/timescaledb-context
rm -rf "$ts_context"
mkdir -p "$ts_context/lib" "$ts_context/extension"
cp -p "$("$pg_config" --pkglibdir)"/timescaledb*.so "$ts_context/lib/"
cp -p "$("$pg_config" --sharedir)"/extension/timescaledb* "$ts_context/extension/"
ts_files=$(cd "$ts_context" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)
build "$ts_tag" "$(content_key "$debian_id $license $ts_files" deploy/images/timescaledb)" \
  --build-arg "BASE_IMAGE=$local_base" --build-arg "POSTGRES_MAJOR=$pg_major" \
  --build-arg "TIMESCALEDB_LICENSE=$license" --build-context "timescaledb=$ts_context" \
  --file deploy/images/timescaledb/Dockerfile deploy/images/timescaledb
