"""KAFKA_CLIENT_CONFIG's TLS/SASL keys are checked when the settings are read, and no message or
repr of the settings shows a password."""

import json
from pathlib import Path

import pytest

from tickwire_core.errors import ConfigError
from tickwire_core.kafka_security import redacted, security_problems
from tickwire_core.settings import KafkaServiceSettings, load_settings

PASSWORD = "s3cret-pa55word"


@pytest.fixture
def ca_file(tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    return str(path)


def settings_with(monkeypatch: pytest.MonkeyPatch, client_config: str) -> KafkaServiceSettings:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9093")
    monkeypatch.setenv("KAFKA_CLIENT_CONFIG", client_config)
    return load_settings(KafkaServiceSettings)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "scram-sha-512"])
def test_sasl_over_tls_with_each_mechanism_is_accepted(ca_file: str, mechanism: str) -> None:
    config = {
        "security.protocol": "sasl_ssl",
        "sasl.mechanism": mechanism,
        "sasl.username": "ingest",
        "sasl.password": PASSWORD,
        "ssl.ca.location": ca_file,
    }
    assert security_problems(config) == []


def test_mutual_tls_needs_both_certificate_and_key(ca_file: str) -> None:
    config = {
        "security.protocol": "SSL",
        "ssl.ca.location": ca_file,
        "ssl.certificate.location": ca_file,
    }
    assert security_problems(config) == [
        "a client certificate needs both ssl.certificate.location and ssl.key.location"
    ]
    assert security_problems({**config, "ssl.key.location": ca_file}) == []


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"security.protocol": "TLS"}, "security.protocol='TLS' is not one of PLAINTEXT, SSL"),
        (
            {"sasl.username": "ingest", "sasl.password": PASSWORD},
            "sasl.password, sasl.username set but security.protocol=PLAINTEXT",
        ),
        (
            {"security.protocol": "SASL_PLAINTEXT", "ssl.ca.location": "/ca.pem"},
            "ssl.ca.location set but security.protocol=SASL_PLAINTEXT",
        ),
        (
            {"security.protocol": "SASL_SSL", "sasl.mechanism": "GSSAPI"},
            "sasl.mechanism='GSSAPI' is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512",
        ),
        (
            {"security.protocol": "SASL_SSL", "sasl.username": "ingest"},
            "security.protocol=SASL_SSL needs sasl.password",
        ),
    ],
)
def test_a_wrong_security_setting_is_named(config: dict[str, str], problem: str) -> None:
    assert any(p.startswith(problem) for p in security_problems(config)), security_problems(config)


def test_the_settings_refuse_a_wrong_config_without_showing_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "MD5",
        "sasl.username": "u",
        "sasl.password": PASSWORD,
    }
    with pytest.raises(ConfigError, match=r"KAFKA_CLIENT_CONFIG=.*sasl.mechanism='MD5'") as err:
        settings_with(monkeypatch, json.dumps(config))
    assert PASSWORD not in str(err.value)
    assert "[redacted]" in str(err.value)


def test_a_password_of_the_wrong_type_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="KAFKA_CLIENT_CONFIG") as err:
        settings_with(monkeypatch, '{"security.protocol": "SASL_SSL", "sasl.password": 98765}')
    assert "98765" not in str(err.value)


def test_a_config_that_is_not_json_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="KAFKA_CLIENT_CONFIG is not valid JSON") as err:
        settings_with(monkeypatch, f'{{"sasl.password": "{PASSWORD}",')
    assert PASSWORD not in str(err.value)


def test_the_settings_repr_leaves_the_client_config_out(
    monkeypatch: pytest.MonkeyPatch, ca_file: str
) -> None:
    settings = settings_with(
        monkeypatch,
        f'{{"security.protocol": "SASL_SSL", "sasl.username": "u", "sasl.password": "{PASSWORD}",'
        f' "ssl.ca.location": "{ca_file}"}}',
    )
    assert settings.kafka_client_config["sasl.password"] == PASSWORD
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings)


def test_redacted_hides_secrets_only() -> None:
    assert redacted({"sasl.username": "u", "sasl.password": PASSWORD, "ssl.key.password": "k"}) == {
        "sasl.username": "u",
        "sasl.password": "[redacted]",
        "ssl.key.password": "[redacted]",
    }
