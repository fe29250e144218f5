"""The history sources by their command-line name: factories that build a source from the
settings and import its module only then, so one missing source leaves the others usable."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast

from tickwire_ingest.domain.history.pages import HistorySource
from tickwire_ingest.history_settings import HistorySettings

SourceFactory = Callable[[HistorySettings], HistorySource]


class SourceNotAvailable(Exception):
    """A source named on the command line that is unknown, or whose module cannot load."""


def _url(value: str) -> str | None:
    return value or None


def _class(module: str, name: str) -> Callable[..., HistorySource]:
    # By name: a source's module is imported only when that source is asked for.
    found = getattr(importlib.import_module(f"tickwire_ingest.adapters.history.{module}"), name)
    return cast(Callable[..., HistorySource], found)


def _yahoo(settings: HistorySettings) -> HistorySource:
    yahoo_source = _class("yahoo", "YahooSource")
    return yahoo_source(base_url=_url(settings.yahoo_url), policy=settings.policy())


def _coingecko(settings: HistorySettings) -> HistorySource:
    coingecko_source = _class("coingecko", "CoinGeckoSource")
    # The pause goes to the source itself: it sets its policy's pause, from its plan's pace
    # when none is given, so a pause inside the policy alone would be overridden.
    return coingecko_source(
        base_url=_url(settings.coingecko_url),
        policy=settings.policy(),
        api_key=settings.coingecko_api_key.get_secret_value() or None,
        pause_s=settings.coingecko_pause_s,
        plan=settings.coingecko_plan,
    )


def _exchange(venue: str, url: Callable[[HistorySettings], str]) -> SourceFactory:
    def build(settings: HistorySettings) -> HistorySource:
        exchange_source = _class("exchange", "ExchangeSource")
        return exchange_source(venue, base_url=_url(url(settings)), policy=settings.policy())

    return build


def _finra_short_volume(settings: HistorySettings) -> HistorySource:
    short_volume_source = _class("finra", "FinraShortVolumeSource")
    return short_volume_source(base_url=_url(settings.finra_files_url), policy=settings.policy())


def _finra_short_interest(settings: HistorySettings) -> HistorySource:
    short_interest_source = _class("finra", "FinraShortInterestSource")
    return short_interest_source(base_url=_url(settings.finra_api_url), policy=settings.policy())


SOURCES: dict[str, SourceFactory] = {
    "yahoo": _yahoo,
    "coingecko": _coingecko,
    "binance": _exchange("binance", lambda s: s.binance_url),
    "coinbase": _exchange("coinbase", lambda s: s.coinbase_url),
    "kraken": _exchange("kraken", lambda s: s.kraken_url),
    "deribit": _exchange("deribit", lambda s: s.deribit_url),
    "finra-short-volume": _finra_short_volume,
    "finra-short-interest": _finra_short_interest,
}


def build_source(name: str, settings: HistorySettings) -> HistorySource:
    factory = SOURCES.get(name)
    if factory is None:
        raise SourceNotAvailable(f"unknown source {name!r}; sources: {', '.join(sorted(SOURCES))}")
    try:
        return factory(settings)
    except (ImportError, AttributeError) as exc:
        raise SourceNotAvailable(f"source {name} is not available here: {exc}") from None
