# One image per service from one file: `docker build --build-arg SERVICE=sink .`
# The build stage resolves only that service's locked dependencies; the final stage has no tools.
FROM python:3.11.11-slim-bookworm AS build
ARG SERVICE
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY libs ./libs
COPY services ./services
RUN uv sync --frozen --no-dev --no-editable --package "tickwire-${SERVICE}"

FROM python:3.11.11-slim-bookworm
ARG SERVICE
ENV PATH=/app/.venv/bin:$PATH SERVICE_MODULE=tickwire_${SERVICE}
RUN useradd --system --uid 10001 tickwire
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY schemas /app/schemas
USER 10001
CMD ["sh", "-c", "exec python -m ${SERVICE_MODULE}"]
