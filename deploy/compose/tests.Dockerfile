# The test runner of docker-compose.test.yml: the whole workspace, its tests and its dev tools,
# unlike the service images (Dockerfile at the root), which hold one service and no tools.
# BASE_IMAGE and the build secret `build-ca` work as in the service images' Dockerfile.
ARG BASE_IMAGE=docker.io/library/python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

FROM ${BASE_IMAGE}

# What the tests run besides Python: psql (the compose roles' script, as the db-roles job runs it)
# and a headless Chromium with its WebDriver (the dashboard's tests), as the scripts install them
# on a host (scripts/install-chromium.sh). Versions: the base's Debian release.
# hadolint ignore=DL3008
RUN apt-get update -q \
    && apt-get install --yes --quiet --no-install-recommends \
        postgresql-client chromium chromium-driver fonts-liberation \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
# --break-system-packages: Debian's own Python marks its site-packages as managed by apt.
RUN --mount=type=secret,id=build-ca \
    if [ -f /run/secrets/build-ca ]; then export PIP_CERT=/run/secrets/build-ca; fi \
    && pip install --no-cache-dir --break-system-packages uv==0.13.9 \
    && groupadd --system --gid 10001 tickwire \
    && useradd --system --no-log-init --uid 10001 --gid tickwire --create-home \
        --home-dir /home/tickwire --shell /usr/sbin/nologin tickwire \
    && install --directory --owner=10001 --group=10001 /app
ENV UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# Every workspace member's manifest: uv resolves the whole workspace before installing any of it.
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
    && uv sync --frozen --no-install-workspace
# Owned by the test user: pytest and hypothesis write next to the sources.
COPY --chown=10001:10001 . .
RUN --mount=type=cache,target=/root/.cache/uv --mount=type=secret,id=build-ca \
    if [ -f /run/secrets/build-ca ]; then export SSL_CERT_FILE=/run/secrets/build-ca; fi \
    && uv sync --frozen
ENV PATH="/app/.venv/bin:${PATH}"
USER 10001:10001
CMD ["pytest", "-p", "no:cacheprovider", "-m", "integration"]
