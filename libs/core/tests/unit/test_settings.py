import pytest

from tickwire_core.errors import ConfigError
from tickwire_core.settings import KafkaServiceSettings, load_settings


def test_missing_bootstrap_servers_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    with pytest.raises(ConfigError, match="KAFKA_BOOTSTRAP_SERVERS is required"):
        load_settings(KafkaServiceSettings)


def test_wrong_value_is_named_with_its_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    monkeypatch.setenv("TICKWIRE_HEALTH_PORT", "eighty")
    with pytest.raises(ConfigError, match="TICKWIRE_HEALTH_PORT='eighty'"):
        load_settings(KafkaServiceSettings)


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("KAFKA_CLIENT_CONFIG", '{"security.protocol": "SSL"}')
    monkeypatch.setenv("TICKWIRE_TOPIC_PREFIX", "desk1.")
    settings = load_settings(KafkaServiceSettings)
    assert settings.kafka_bootstrap_servers == "k1:9092,k2:9092"
    assert settings.kafka_client_config == {"security.protocol": "SSL"}
    assert settings.topic("tickwire.ticks.raw") == "desk1.tickwire.ticks.raw"
