"""The history sources by name: an unknown name lists the known ones, a source whose module is
missing does not break the others, and the settings reach the factory."""

from __future__ import annotations

import pytest

from tickwire_ingest.adapters.history import sources
from tickwire_ingest.adapters.history.sources import SourceNotAvailable, build_source
from tickwire_ingest.history_settings import HistorySettings


def test_every_source_of_the_command_line_is_registered() -> None:
    assert set(sources.SOURCES) == {
        "yahoo", "coingecko", "binance", "coinbase", "kraken", "deribit",
        "finra-short-volume", "finra-short-interest",
    }  # fmt: skip


def test_an_unknown_source_names_the_known_ones() -> None:
    with pytest.raises(SourceNotAvailable, match="unknown source 'bloomberg'; sources: binance,"):
        build_source("bloomberg", HistorySettings())


def test_a_source_whose_module_is_missing_is_an_error_of_its_own(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(
        sources.SOURCES, "ghost", lambda s: sources._class("ghost", "GhostSource")(s)
    )
    with pytest.raises(SourceNotAvailable, match="source ghost is not available here"):
        build_source("ghost", HistorySettings())
    monkeypatch.setitem(sources.SOURCES, "fake", lambda s: ("built with", s.coingecko_pause_s))
    assert build_source("fake", HistorySettings(coingecko_pause_s=1.5)) == ("built with", 1.5)


def test_every_source_the_command_names_is_here_and_builds() -> None:
    for name in sources.SOURCES:
        source = build_source(name, HistorySettings())
        assert source.name == name, name
        assert source.datasets(), name
        close = getattr(source, "close", None)
        if close is not None:
            close()


def test_settings_come_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TICKWIRE_HISTORY_COINGECKO_URL", "http://127.0.0.1:9/api/v3")
    monkeypatch.setenv("TICKWIRE_HISTORY_RETRY_ATTEMPTS", "2")
    settings = HistorySettings()
    assert settings.coingecko_url == "http://127.0.0.1:9/api/v3"
    policy = settings.policy(pause_s=3.0)
    assert (policy.attempts, policy.pause_s, policy.max_s) == (2, 3.0, 30.0)


def test_the_coingecko_pause_setting_reaches_the_source() -> None:
    paused = build_source("coingecko", HistorySettings(coingecko_pause_s=0.0))
    assert paused.policy.pause_s == 0.0  # type: ignore[attr-defined]
    # Unset: the plan's own pace, slower without a key.
    keyless = build_source("coingecko", HistorySettings())
    keyed = build_source("coingecko", HistorySettings(coingecko_api_key="k"))
    assert keyless.policy.pause_s == 12.0  # type: ignore[attr-defined]
    assert keyed.policy.pause_s == 2.1  # type: ignore[attr-defined]


def test_a_pro_key_reaches_coingecko_s_pro_root_with_its_header() -> None:
    settings = HistorySettings(coingecko_plan="pro", coingecko_api_key="k-1")
    source = build_source("coingecko", settings)
    try:
        client = source.http._client  # type: ignore[attr-defined]
        assert str(client.base_url).startswith("https://pro-api.coingecko.com")
        assert client.headers["x-cg-pro-api-key"] == "k-1"
    finally:
        source.close()  # type: ignore[attr-defined]
