"""Settings of history sources (environment variables TICKWIRE_HISTORY_<FIELD>): the vendors'
addresses, CoinGecko's key and pace, and the retry policy; built once by `tickwire backfill`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tickwire_ingest.adapters.history.http import RetryPolicy


class HistorySettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TICKWIRE_HISTORY_", extra="ignore", frozen=True, populate_by_name=True
    )

    # Empty: the vendor's public address. Tests point them at a local server.
    yahoo_url: str = Field("", description="Yahoo Finance base URL.")
    coingecko_url: str = Field("", description="CoinGecko API base URL.")
    binance_url: str = Field("", description="Binance REST base URL.")
    coinbase_url: str = Field("", description="Coinbase REST base URL.")
    kraken_url: str = Field("", description="Kraken REST base URL.")
    deribit_url: str = Field("", description="Deribit REST base URL.")
    finra_files_url: str = Field("", description="FINRA daily short sale volume files.")
    finra_api_url: str = Field("", description="FINRA query API (short interest).")

    coingecko_api_key: SecretStr = Field(
        SecretStr(""), description="CoinGecko API key; empty: the public (keyless) tier."
    )
    coingecko_plan: Literal["demo", "pro"] = Field(
        "demo",
        description="CoinGecko plan of the key: demo (api.coingecko.com) or pro "
        "(pro-api.coingecko.com); daily candles need a paid (pro) plan.",
    )
    coingecko_pause_s: float | None = Field(
        None,
        ge=0,
        le=600,
        description="Seconds between two CoinGecko requests; unset: the plan's own pace "
        "(2.1 with a key, 12 without).",
    )

    retry_attempts: int = Field(6, ge=1, le=50, description="Attempts of one request.")
    retry_initial_s: float = Field(0.5, ge=0, description="First backoff wait.")
    retry_max_s: float = Field(30.0, gt=0, description="Cap of one wait, Retry-After included.")
    retry_jitter_s: float = Field(0.5, ge=0, description="Random extra of each wait.")
    timeout_s: float = Field(30.0, gt=0, description="Timeout of one request.")

    def policy(self, pause_s: float = 0.0) -> RetryPolicy:
        return RetryPolicy(
            attempts=self.retry_attempts,
            initial_s=self.retry_initial_s,
            max_s=self.retry_max_s,
            jitter_s=self.retry_jitter_s,
            pause_s=pause_s,
            timeout_s=self.timeout_s,
        )
