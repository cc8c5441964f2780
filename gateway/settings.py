"""All settings, from the environment with a BILLING_ prefix (or a .env file)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", env_file=".env", extra="ignore")

    environment: Literal["development", "demo", "production"] = "development"
    database_url: str = "sqlite://var/billing.sqlite3"
    # PostgreSQL, per process (docs/production.md "Processes and pools"): the asyncpg pool
    # and its prepared-statement cache (0 behind PgBouncer in transaction mode), and the
    # direct connection the event fanout LISTENs on (None: database_url), which a
    # transaction-mode pooler cannot carry.
    database_pool_min_size: int = Field(default=1, ge=0)
    database_pool_max_size: int = Field(default=5, ge=1)
    database_statement_cache_size: int = Field(default=100, ge=0)
    database_listen_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    # `serve`: server processes (each with its own event loop, DB pool and provider
    # client) and uvicorn's per-request access log line.
    workers: int = 1
    access_log: bool = True

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
    document_link_lifetime_seconds: int = Field(default=3600, gt=0)
    document_render_workers: int = Field(default=2, ge=1)
    # gateway/gc_tuning.py: start-up objects frozen, and a collection every this many
    # allocations instead of CPython's 700; 0 leaves the collector as CPython sets it.
    gc_gen0_threshold: int = Field(default=50_000, ge=0)

    # Provider webhooks (POST /webhooks/stripe): the endpoint's signing secret.
    stripe_webhook_secret: SecretStr = SecretStr("whsec_development")
    stripe_webhook_tolerance_seconds: int = 300

    # Dunning and the worker.
    dunning_retry_days: list[int] = [1, 3, 5, 7]
    dunning_final_status: Literal["CANCELED", "UNPAID"] = "CANCELED"
    invoice_due_days: int = 14
    reconcile_after_seconds: int = 300
    worker_interval_seconds: float = 5.0
    worker_metrics_port: int = 0  # >0: the worker serves /metrics on 127.0.0.1:PORT
    # The gateway's /metrics (docs/production.md): on the API port it is open outside
    # production; in production only with the bearer token, else 404. A port > 0 also
    # serves it on metrics_host:metrics_port, apart from the API.
    metrics_token: SecretStr | None = None
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    portal_url: str | None = None  # default: {public_url}/portal
    # Outgoing webhooks: networks (CIDR) or host names that may receive them although
    # not public (e.g. ["127.0.0.0/8"] for a local sink); https is required in production.
    webhook_allowed_targets: list[str] = []

    # Email (the outbox sender).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    mail_from: str = "Billing <billing@example.test>"

    # Security (README "Security"). API keys: the pepper their hashes are keyed with
    # (required in production) and how long a rotated-out key keeps working.
    api_key_pepper: SecretStr | None = None
    api_key_rotation_overlap_hours: int = 168
    # OIDC / JWT bearer tokens for SPAs: on when issuer, audience and JWKS URL are all set.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_account_claim: str = "billing_account"  # the account's email, or a list of emails
    oidc_role_claim: str = "billing_role"  # "admin" or "viewer"
    oidc_default_role: Literal["admin", "viewer"] = "viewer"
    oidc_algorithms: list[Literal["RS256", "ES256"]] = ["RS256", "ES256"]
    oidc_leeway_seconds: int = 30
    oidc_jwks_cache_seconds: int = 300
    oidc_jwks_refresh_interval_seconds: float = 30.0
    # Hostile queries: refused before execution with a 400.
    max_body_bytes: int = 100_000
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_batch_operations: int = 10
    max_page_size: int = Field(default=100, ge=1, le=100)
    max_query_cost: int = 50_000  # the partner query over 100 accounts costs about 30,000
    cost_list_size: int = 10  # assumed length of a list field that takes no `first`
    introspection: bool | None = None  # None: on unless production (admin keys: always)
    cors_allow_origins: list[str] = []
    # Trusted documents (gateway/trusted.py, docs/performance.md): off, allow (the
    # manifest's hashes work from the first request) or require (only its documents run
    # for the principal kinds listed; API keys are exempt by default).
    trusted_documents: Literal["off", "allow", "require"] = "off"
    trusted_documents_manifest: Path | None = None  # None: the portal's shipped manifest
    trusted_documents_required_for: list[Literal["token", "api_key", "anonymous"]] = [
        "token",
        "anonymous",
    ]
    # Rate limits per API key / token subject and per client address, in fixed windows;
    # shared across processes through Redis when redis_url is set.
    rate_limit_per_key: int = 600
    rate_limit_per_address: int = 1_200
    rate_limit_window_seconds: int = 60
    # Failed credentials (API key, token, signed link) per client address and window,
    # counted apart from valid callers: over it that address gets 429, valid keys do not.
    rate_limit_failed_auth_per_address: int = 60
    redis_url: str | None = None
    log_format: Literal["console", "json"] | None = None  # None: json in production

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
