"""All settings, from the environment with a BILLING_ prefix (or a .env file)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
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

    # Invoice and receipt PDFs: the seller block, paper, locale, download links, workers.
    seller_name: str = "Billing Gateway Demo Inc."
    seller_address: str = "548 Market Street, Suite 100\nSan Francisco, CA 94104\nUnited States"
    seller_tax_id: str | None = None
    seller_email: str | None = None
    seller_logo_path: Path | None = None  # PNG, JPEG or SVG, printed top left
    document_paper_size: Literal["A4", "Letter"] = "A4"
    document_locale: str = "en_US"  # money and dates on documents (babel)
    document_link_secret: SecretStr | None = None  # required in production
    document_link_lifetime_seconds: int = 3600
    document_render_workers: int = 2

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

    def document_link_key(self) -> str:
        """The secret that signs download links. Outside production an unset one is derived
        from the provider key, so links survive restarts; production must set its own."""
        if self.document_link_secret is not None:
            return self.document_link_secret.get_secret_value()
        if self.environment == "production":
            raise ValueError("BILLING_DOCUMENT_LINK_SECRET must be set in production")
        seed = f"document-links|{self.stripe_api_key.get_secret_value()}|{self.database_url}"
        return hashlib.sha256(seed.encode()).hexdigest()


@lru_cache
def get_settings() -> Settings:
    return Settings()
