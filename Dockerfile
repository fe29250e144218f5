# One file for every service's image: they share one workspace, one lock and one way to start, so
# per-service copies would only drift apart. Build one with `docker build --build-arg SERVICE=sink .`;
# `make images` builds them all (docs/deploy/images.md).
#
# Stages: `base` is the interpreter, `build` resolves that one service's locked dependencies, and
# the `tickwire` command's, into /app/.venv, and `runtime` holds the virtual environment, the Avro
# schemas and nothing else: no uv, no pip, no compiler, no caches. Every image has `tickwire` on
# its PATH (jobs run `tickwire topics create` and `tickwire migrate`; an operator can
# `kubectl exec ... tickwire status`). The jobs image (SERVICE=jobs) is `tickwire` with the batch
# jobs' package, tickwire_jobs (docs/deploy/images.md).
#
# BASE_IMAGE defaults to the pinned public Python image (tag and digest of the multi-architecture
# index). Where no registry answers, scripts/images.sh passes a Debian bookworm base it made from
# Debian's archive (Python 3.11 with pip), which this file builds on unchanged.
# A TLS-intercepting proxy's CA reaches the package downloads as the build secret `build-ca`
# (`--secret id=build-ca,src=...`): mounted for one RUN at a time, never in a layer.
ARG BASE_IMAGE=docker.io/library/python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

FROM ${BASE_IMAGE} AS base

FROM base AS build
ARG SERVICE
# Fail early and by name: without it uv would report an unknown package "tickwire-".
# --break-system-packages: Debian's own Python marks its site-packages as managed by apt; the
# public image's pip accepts the flag and has nothing to protect.
RUN --mount=type=secret,id=build-ca \
    test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<ingest|normalize|signals|sink|api|jobs>" >&2; exit 1; } \
    && if [ -f /run/secrets/build-ca ]; then export PIP_CERT=/run/secrets/build-ca; fi \
    && pip install --no-cache-dir --break-system-packages uv==0.13.9
# Compiled bytecode: the runtime root filesystem may be read-only, so nothing gets compiled there.
# Copy, not hard links: the cache mount is another filesystem. Never a downloaded interpreter: the
# virtual environment must run on this image's own Python, which the runtime stage has too.
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# The lock and the workspace's manifests first: the dependency layer is rebuilt only when they change.
COPY pyproject.toml uv.lock ./
COPY libs/core/pyproject.toml libs/core/
COPY libs/cli/pyproject.toml libs/cli/
COPY libs/testing/pyproject.toml libs/testing/
COPY services/ingest/pyproject.toml services/ingest/
COPY services/normalize/pyproject.toml services/normalize/
COPY services/signals/pyproject.toml services/signals/
COPY services/sink/pyproject.toml services/sink/
COPY services/jobs/pyproject.toml services/jobs/
COPY services/api/pyproject.toml services/api/
RUN --mount=type=cache,target=/root/.cache/uv --mount=type=secret,id=build-ca \
    if [ -f /run/secrets/build-ca ]; then export SSL_CERT_FILE=/run/secrets/build-ca; fi \
    && uv sync --frozen --no-dev --no-editable --no-install-workspace \
        --package "tickwire-${SERVICE}" --package tickwire-cli
COPY libs libs
COPY services services
# --no-editable: tickwire_core, the command and the service are installed into the environment as
# packages (the command as the console script /app/.venv/bin/tickwire), so the runtime stage needs
# none of the sources.
RUN --mount=type=cache,target=/root/.cache/uv --mount=type=secret,id=build-ca \
    if [ -f /run/secrets/build-ca ]; then export SSL_CERT_FILE=/run/secrets/build-ca; fi \
    && uv sync --frozen --no-dev --no-editable --package "tickwire-${SERVICE}" --package tickwire-cli

FROM base AS runtime
ARG SERVICE
# The module the image runs. The jobs image (SERVICE=jobs: the lake export and the quality report,
# batch jobs with no service of their own) is built with SERVICE_MODULE=tickwire_cli: it runs the
# `tickwire` command, and its schedules name the command line.
ARG SERVICE_MODULE=tickwire_${SERVICE}
LABEL org.opencontainers.image.title="tickwire-${SERVICE}" \
      org.opencontainers.image.description="tickwire ${SERVICE} service"
# pip, setuptools and wheel are build tools; the service runs from its own virtual environment.
# On a Debian base they are apt's packages (pip would leave them in place), on the public image pip's.
# /var/lib/tickwire is the one writable path besides /tmp (signals keeps faust's data directory
# there): owned by the service user, so a named volume mounted on it starts with that owner.
RUN if dpkg-query --show python3-pip >/dev/null 2>&1; then \
        apt-get purge --yes --quiet --auto-remove python3-pip; \
    else python -m pip uninstall --yes --quiet pip setuptools wheel; fi \
    && groupadd --system --gid 10001 tickwire \
    && useradd --system --no-log-init --uid 10001 --gid tickwire --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin tickwire \
    && install --directory --owner=10001 --group=10001 --mode=0750 /var/lib/tickwire
WORKDIR /app
# Owned by root and read-only to the service: the code cannot be changed by the process running it.
COPY --from=build /app/.venv /app/.venv
# tickwire_core finds schemas/ above its installed package: /app/schemas for /app/.venv.
COPY schemas /app/schemas
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SERVICE_MODULE="${SERVICE_MODULE}"
USER 10001:10001
# Liveness of the service's own health server, on the port its settings read: the API serves
# /livez on TICKWIRE_API_PORT, every Kafka service on TICKWIRE_HEALTH_PORT. urllib, as the slim
# image has no curl; any answer but 2xx, or none, exits 1 (unhealthy).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; api = os.environ.get('SERVICE_MODULE') == 'tickwire_api'; port = os.environ.get('TICKWIRE_API_PORT', '8000') if api else os.environ.get('TICKWIRE_HEALTH_PORT', '8080'); urllib.request.urlopen(f'http://127.0.0.1:{port}/livez', timeout=4)"]
# exec: the service itself is PID 1 and receives SIGTERM, which starts its flush-then-commit stop.
CMD ["sh", "-c", "exec python -m \"${SERVICE_MODULE}\""]
