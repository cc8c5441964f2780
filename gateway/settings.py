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

    # Provider webhooks (POST /webhooks/stripe): the endpoint's signing secret.
    stripe_webhook_secret: SecretStr = SecretStr("whsec_development")
    stripe_webhook_tolerance_seconds: int = 300

    # Dunning and the worker.
    dunning_retry_days: list[int] = [1, 3, 5, 7]
    dunning_final_status: Literal["CANCELED", "UNPAID"] = "CANCELED"
    invoice_due_days: int = 14
    reconcile_after_seconds: int = 300
    worker_interval_seconds: float = 5.0
    portal_url: str | None = None  # default: {public_url}/portal

    # Email (the outbox sender).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    mail_from: str = "Billing <billing@example.test>"

    @property
    def graphiql_enabled(self) -> bool:
        if self.graphiql is not None:
            return self.graphiql
        return self.environment != "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()
