"""A rendered container's environment as the kubelet would build it, the settings each component
would start with from it, and the nightly jobs' command lines as their shell would run them."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tests.deploy.k8s_render import Obj, Pod, named
from tickwire_api.settings import ApiSettings
from tickwire_core.settings import KafkaServiceSettings, env_name
from tickwire_ingest.history_settings import HistorySettings
from tickwire_ingest.settings import IngestSettings
from tickwire_normalize.settings import NormalizeSettings
from tickwire_signals.settings import SignalsSettings
from tickwire_sink.settings import SinkSettings


class CommandSettings(BaseSettings):
    """What the `tickwire` command reads from the environment besides its commands' own settings
    (tickwire_cli.context.Env): the nightly jobs' containers set these."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = Field(validation_alias="DATABASE_URL")
    kafka_bootstrap_servers: str | None = Field(None, validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    kafka_client_config: str | None = Field(None, validation_alias="KAFKA_CLIENT_CONFIG")
    topic_prefix: str = Field("", validation_alias="TICKWIRE_TOPIC_PREFIX")
    log_level: str = Field("INFO", validation_alias="TICKWIRE_LOG_LEVEL")


class TopicsJobSettings(KafkaServiceSettings):
    """`tickwire topics`: the Kafka connection, and the database its run is logged in."""

    database_url: str | None = Field(None, validation_alias="DATABASE_URL")


class BackfillJobSettings(HistorySettings, CommandSettings):
    """`tickwire backfill`: the command's connections and the history sources' settings."""

    model_config = HistorySettings.model_config  # TICKWIRE_HISTORY_<FIELD>


class LakeExportJobSettings(CommandSettings):
    """`tickwire lake export`: where the lake is (LAKE_URL, given to --to by the job's shell) and
    the standard AWS variables the S3 client reads."""

    lake_url: str = Field(pattern=r"^(s3://[a-z0-9.-]+(/.*)?|/.+)$", validation_alias="LAKE_URL")
    aws_region: str | None = Field(None, validation_alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL")
    aws_access_key_id: str | None = Field(None, validation_alias="AWS_ACCESS_KEY_ID")
    aws_secret_access_key: str | None = Field(None, validation_alias="AWS_SECRET_ACCESS_KEY")


# What each component's containers read their settings with: the services' own models, and for
# the jobs the model of what their command loads (topics: the Kafka connection; migrate: the sink;
# the nightly jobs: the command's connections and their command's own).
MODELS: dict[str, type[BaseSettings]] = {
    "ingest": IngestSettings,
    "normalize": NormalizeSettings,
    "signals": SignalsSettings,
    "sink": SinkSettings,
    "api": ApiSettings,
    "topics": TopicsJobSettings,
    "migrate": SinkSettings,
    "backfill": BackfillJobSettings,
    "quality": CommandSettings,
    "lake-export": LakeExportJobSettings,
}
# The nightly jobs' components, and the image (service) holding each one's command.
SCHEDULED = {"backfill": "ingest", "quality": "jobs", "lake-export": "jobs"}
# What the Secrets the manifests reference would hold, (secret, key) -> value: stand-ins that pass
# the services' validation.
DATABASE_URL = "postgresql://tickwire:secret@db.example.internal:5432/tickwire"
STAND_INS = {
    ("tickwire-database", "sink-url"): DATABASE_URL,
    ("tickwire-database", "api-url"): DATABASE_URL.replace("tickwire:", "tickwire_api:"),
    ("tickwire-api-keys", "hashes"): "ab" * 32,
    ("tickwire-kafka", "client-config"): (
        '{"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", '
        '"sasl.username": "tickwire", "sasl.password": "kafka-password"}'
    ),
    ("tickwire-kafka", "sasl-password"): "kafka-password",
    ("tickwire-ig", "password"): "CST-abc|XST-def",
    ("tickwire-lake", "access-key-id"): "AKIAEXAMPLE",
    ("tickwire-lake", "secret-access-key"): "lake-secret",
}


# --- the nightly jobs' command lines -----------------------------------------------------------

YESTERDAY = '"$(date -u -d yesterday +%F)"'  # the day of a nightly job, by the container's shell


def schedule_words(
    script: str, day: str = "2024-05-01", lake: str = "s3://lake/prefix"
) -> list[str]:
    """The words of a nightly job's `sh -c` script, `exec tickwire ...`, with the shell's day and
    the lake's URL as the shell would give them."""
    assert script.startswith("exec tickwire "), script
    script = script.replace(YESTERDAY, day).replace('"$LAKE_URL"', lake)
    assert "$" not in script, script
    return shlex.split(script)[1:]


# --- environment --------------------------------------------------------------------------------

_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


@dataclass(frozen=True)
class Env:
    """A container's environment as the kubelet builds it, with stand-ins for secret values."""

    values: dict[str, str]
    # Variables only spliced into another's value by $(NAME): inputs, not settings.
    spliced: frozenset[str]

    def settings_names(self) -> set[str]:
        return set(self.values) - self.spliced


def container_env(
    container: Obj,
    objects: tuple[Obj, ...],
    secrets: Mapping[tuple[str, str], str],
    pod_name: str = "tickwire-pod-0",
) -> Env:
    """envFrom ConfigMaps first, then env in order, $(NAME) expanded from what came before (the
    kubelet's rules). Secret values come from `secrets` ((secret, key) -> value); a reference to
    one missing there fails, unless it is optional (then the variable is unset)."""
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        ref = source["configMapRef"]
        config_map = named(objects, "ConfigMap", ref["name"])
        values.update({k: str(v) for k, v in (config_map.get("data") or {}).items()})
    spliced: set[str] = set()
    for var in container.get("env", []):
        name = var["name"]
        if "value" in var:
            text = str(var["value"])
            used = set(_REFERENCE.findall(text))
            assert used <= set(values), f"{name} refers to undefined {used - set(values)}"
            spliced |= used
            values[name] = _REFERENCE.sub(lambda m: values[m.group(1)], text)
            continue
        source = var["valueFrom"]
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            key = (ref["name"], ref["key"])
            if key in secrets:
                values[name] = secrets[key]
            else:
                assert ref.get("optional"), f"{name}: no stand-in for secret {key}"
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            values[name] = str(named(objects, "ConfigMap", ref["name"])["data"][ref["key"]])
        elif source.get("fieldRef", {}).get("fieldPath") == "metadata.name":
            values[name] = pod_name
        else:
            raise AssertionError(f"{name}: unexpected source {source}")
    return Env(values, frozenset(spliced))


def setting_names(model: type[BaseSettings]) -> set[str]:
    return {env_name(model, field) for field in model.model_fields}


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    # The settings read os.environ; nothing of the test process's own may leak in.
    with mock.patch.dict(os.environ, env, clear=True):
        yield


def load(model: type[BaseSettings], env: Env) -> Any:
    """The settings the service would start with (raises the service's own validation error)."""
    with _environment(env.values):
        return model()


def settings_of(pod: Pod, container: Obj, objects: tuple[Obj, ...]) -> Any:
    """The settings `container` of `pod` would start with, its secrets' values the stand-ins."""
    return load(MODELS[pod.component], container_env(container, objects, STAND_INS))
