"""All settings, from the environment with a BILLING_ prefix (or a .env file)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", env_file=".env", extra="ignore")

    environment: Literal["development", "demo", "production"] = "development"
    database_url: str = "sqlite://var/billing.sqlite3"
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"

    stripe_api_key: SecretStr = SecretStr("sk_test_sandbox")
    stripe_publishable_key: str = "pk_test_sandbox"
    stripe_api_base: str | None = None  # None: Stripe's own API
    stripe_js_url: str = "https://js.stripe.com/v3/"
    stripe_timeout_seconds: float = 20.0

    graphiql: bool | None = None  # None: on unless production

    @property
    def graphiql_enabled(self) -> bool:
        if self.graphiql is not None:
            return self.graphiql
        return self.environment != "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()
