"""The migration command: only DATABASE_URL is needed, so a migration job runs before Kafka or
the sink's other settings exist. Exit codes: 0 up to date, 2 bad settings, 1 failed."""

from __future__ import annotations

import logging
import sys

import psycopg
from pydantic import AliasChoices, Field

from tickwire_core.errors import ConfigError
from tickwire_core.logs import configure_logging
from tickwire_core.settings import ServiceSettings, load_settings
from tickwire_sink.adapters.migrations import migrate

logger = logging.getLogger(__name__)


class MigrateSettings(ServiceSettings):
    database_url: str = Field(
        validation_alias=AliasChoices("DATABASE_URL"),
        min_length=1,
        description="postgresql://user:password@host:port/database (a role that owns the schema)",
    )


def migrate_main() -> int:
    try:
        settings = load_settings(MigrateSettings)
    except ConfigError as exc:
        print(f"sink migrate: {exc}", file=sys.stderr)
        return 2
    configure_logging("sink-migrate", settings.log_level)
    try:
        with psycopg.connect(settings.database_url, connect_timeout=10) as conn:
            applied = migrate(conn)
    except psycopg.Error as exc:
        logger.error("migrations failed: %s", exc)
        return 1
    logger.info("database schema up to date (applied now: %s)", applied or "none")
    print(f"applied: {' '.join(map(str, applied)) or 'none'}")
    return 0
