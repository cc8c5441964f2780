"""The security settings turned into objects: key hashing, OIDC, limits, CORS.

Production refuses to start while any secret is still a public development value
(the defaults below, which tests and the demo rely on): `check_production_settings`,
called by the app's lifespan and by the CLI commands that run the app or the worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from gateway.settings import Settings
from models import ApiKeyRole
from schema.limits import Limits
from services.auth import DEVELOPMENT_PEPPER, KeyHasher
from services.auth_cache import KEY_CACHE
from services.authenticator import Authenticator
from services.clock import Clock
from services.tokens import OidcConfig, TokenVerifier


def key_hasher(settings: Settings) -> KeyHasher:
    """The pepper from settings; unset, the development one (which check_security_settings
    refuses in production: the app's lifespan and the CLI's key commands call it)."""
    if settings.api_key_pepper is not None:
        return KeyHasher(settings.api_key_pepper.get_secret_value().encode())
    return KeyHasher.development()


def check_security_settings(settings: Settings) -> None:
    if settings.environment == "production" and settings.api_key_pepper is None:
        raise ValueError("BILLING_API_KEY_PEPPER must be set in production")
    if settings.api_key_pepper is not None and len(settings.api_key_pepper) < 16:
        raise ValueError("BILLING_API_KEY_PEPPER must be at least 16 characters")


#: Settings whose default is a public development value (or derived from one: unset,
#: the document link secret is derived from the provider key). Production sets each.
PRODUCTION_SECRETS = (
    "api_key_pepper",
    "document_link_secret",
    "stripe_api_key",
    "stripe_publishable_key",
    "stripe_webhook_secret",
)
_KNOWN_PUBLIC_VALUES = frozenset({DEVELOPMENT_PEPPER.decode(), "whsec_development"})


def _plain(value: object) -> object:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def public_defaults_in_use(settings: Settings) -> list[str]:
    """The BILLING_* names of secrets left at (or set to) a public development value."""
    names = []
    for field in PRODUCTION_SECRETS:
        value = _plain(getattr(settings, field))
        default = _plain(Settings.model_fields[field].default)
        if value is None or value == "" or value == default or value in _KNOWN_PUBLIC_VALUES:
            names.append(f"BILLING_{field.upper()}")
    return names


def check_production_settings(settings: Settings) -> None:
    """Refuse to run production on a public development secret; one line names them all."""
    if settings.environment == "production":
        names = public_defaults_in_use(settings)
        if names:
            raise ValueError(
                f"production needs its own {', '.join(names)}: the defaults are public "
                "development values (see docs/production.md)"
            )
        link_secret = settings.document_link_secret
        if link_secret is not None and len(link_secret) < 16:
            raise ValueError("BILLING_DOCUMENT_LINK_SECRET must be at least 16 characters")
    check_security_settings(settings)


def oidc_config(settings: Settings) -> OidcConfig | None:
    if not (settings.oidc_issuer and settings.oidc_audience and settings.oidc_jwks_url):
        return None
    return OidcConfig(
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        jwks_url=settings.oidc_jwks_url,
        account_claim=settings.oidc_account_claim,
        role_claim=settings.oidc_role_claim,
        default_role=ApiKeyRole(settings.oidc_default_role),
        algorithms=tuple(settings.oidc_algorithms),
        leeway_seconds=settings.oidc_leeway_seconds,
        jwks_cache_seconds=settings.oidc_jwks_cache_seconds,
        refresh_interval_seconds=settings.oidc_jwks_refresh_interval_seconds,
    )


@dataclass(frozen=True)
class SecurityConfig:
    hasher: KeyHasher
    tokens: TokenVerifier | None
    limits: Limits
    introspection: bool
    max_body_bytes: int
    max_batch_operations: int
    rate_limit_per_key: int
    rate_limit_per_address: int
    rate_limit_failed_auth_per_address: int

    @classmethod
    def from_settings(cls, settings: Settings) -> SecurityConfig:
        oidc = oidc_config(settings)
        introspection = settings.introspection
        return cls(
            hasher=key_hasher(settings),
            tokens=None if oidc is None else TokenVerifier(oidc),
            limits=Limits(
                max_depth=settings.max_query_depth,
                max_aliases=settings.max_aliases,
                max_tokens=settings.max_tokens,
                max_page_size=settings.max_page_size,
                max_cost=settings.max_query_cost,
                list_size=settings.cost_list_size,
            ),
            introspection=(
                settings.environment != "production" if introspection is None else introspection
            ),
            max_body_bytes=settings.max_body_bytes,
            max_batch_operations=settings.max_batch_operations,
            rate_limit_per_key=settings.rate_limit_per_key,
            rate_limit_per_address=settings.rate_limit_per_address,
            rate_limit_failed_auth_per_address=settings.rate_limit_failed_auth_per_address,
        )

    def authenticator(self, clock: Clock) -> Authenticator:
        return Authenticator(hasher=self.hasher, clock=clock, tokens=self.tokens, cache=KEY_CACHE)


def security_middleware(settings: Settings) -> list[Middleware]:
    """CORS for the allow-listed origins only (none by default: same-origin only)."""
    if not settings.cors_allow_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept", "X-Request-Id"],
            expose_headers=["X-Request-Id", "Retry-After"],
            allow_credentials=False,
            max_age=600,
        )
    ]
