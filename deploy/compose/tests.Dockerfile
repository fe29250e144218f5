# The test runner of docker-compose.test.yml: the whole workspace, its tests and its dev tools,
# unlike the service images (Dockerfile at the root), which hold one service and no tools.
FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

RUN pip install --no-cache-dir uv==0.13.9 \
    && groupadd --system --gid 10001 tickwire \
    && useradd --system --no-log-init --uid 10001 --gid tickwire --create-home \
        --home-dir /home/tickwire --shell /usr/sbin/nologin tickwire \
    && install --directory --owner=10001 --group=10001 /app
ENV UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY libs/core/pyproject.toml libs/core/
COPY services/ingest/pyproject.toml services/ingest/
COPY services/normalize/pyproject.toml services/normalize/
COPY services/signals/pyproject.toml services/signals/
COPY services/sink/pyproject.toml services/sink/
COPY services/api/pyproject.toml services/api/
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-install-workspace
# Owned by the test user: pytest and hypothesis write next to the sources.
COPY --chown=10001:10001 . .
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen
ENV PATH="/app/.venv/bin:${PATH}"
USER 10001:10001
CMD ["pytest", "-p", "no:cacheprovider", "-m", "integration"]
