"""OIDC / JWT bearer tokens for single-page apps, checked against the IdP's JWKS.

Only asymmetric algorithms are accepted (RS256, ES256): `none` and HS* are refused
before any key is looked at, so a public key can never serve as an HMAC secret. The
JWKS is cached (`PyJWKClient`) and fetched again when a token names an unknown `kid`
(the IdP rotated its keys), but at most once per `refresh_interval`, so forged kids
cannot make us hammer the IdP. Issuer, audience, expiry and not-before are checked.

Claims: `account_claim` holds the account's email, or a list of emails (one token
may act for several accounts); `role_claim` holds `admin` or `viewer` (absent: the
configured default role). Anything else is refused as Unauthenticated.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKClientError

from models import Account, ApiKeyRole
from services.auth import Principal
from services.errors import Unauthenticated

ALLOWED_ALGORITHMS = frozenset({"RS256", "ES256"})


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    audience: str
    jwks_url: str
    account_claim: str = "billing_account"
    role_claim: str = "billing_role"
    default_role: ApiKeyRole = ApiKeyRole.VIEWER
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    leeway_seconds: int = 30
    jwks_cache_seconds: int = 300
    refresh_interval_seconds: float = 30.0
    fetch_timeout_seconds: float = 5.0

    def __post_init__(self) -> None:
        refused = set(self.algorithms) - ALLOWED_ALGORITHMS
        if refused or not self.algorithms:
            raise ValueError(f"only {sorted(ALLOWED_ALGORITHMS)} are allowed, not {refused}")


class TokenVerifier:
    """Verifies tokens; the JWKS fetch (blocking urllib) runs in a worker thread."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._jwks = PyJWKClient(
            config.jwks_url,
            cache_jwk_set=True,
            lifespan=config.jwks_cache_seconds,
            timeout=int(max(1, config.fetch_timeout_seconds)),
        )
        self._last_refresh = float("-inf")

    async def principal(self, token: str) -> Principal:
        claims = await asyncio.to_thread(self.verify, token)
        return await principal_from_claims(claims, self.config)

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or Unauthenticated."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("Malformed token.") from exc
        algorithm = header.get("alg")
        if algorithm not in self.config.algorithms:
            raise Unauthenticated("Token algorithm not accepted.")
        key = self._signing_key(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated("Invalid token.") from exc
        return claims

    def _signing_key(self, kid: object) -> PyJWK:
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("Token has no key id.")
        try:
            key = _find(self._jwks.get_signing_keys(), kid)
            now = time.monotonic()
            if key is None and now - self._last_refresh >= self.config.refresh_interval_seconds:
                self._last_refresh = now
                key = _find(self._jwks.get_signing_keys(refresh=True), kid)
        except PyJWKClientError as exc:
            raise Unauthenticated("Token keys unavailable.") from exc
        if key is None:
            raise Unauthenticated("Unknown token key.")
        return key


def _find(keys: list[PyJWK], kid: str) -> PyJWK | None:
    return next((k for k in keys if k.key_id == kid), None)


async def principal_from_claims(claims: dict[str, Any], config: OidcConfig) -> Principal:
    raw_accounts = claims.get(config.account_claim)
    emails = [raw_accounts] if isinstance(raw_accounts, str) else raw_accounts
    if not isinstance(emails, list) or not emails or not all(isinstance(e, str) for e in emails):
        raise Unauthenticated("Token names no account.")
    raw_role = claims.get(config.role_claim, config.default_role.value)
    if raw_role not in (ApiKeyRole.ADMIN.value, ApiKeyRole.VIEWER.value):
        raise Unauthenticated("Token role not accepted.")
    role = ApiKeyRole(raw_role)
    accounts = await Account.filter(email__in=emails)
    if len(accounts) != len(set(emails)):
        raise Unauthenticated("Token names an unknown account.")
    account_ids = frozenset(a.id for a in accounts)
    return Principal(
        role=role,
        account_ids=account_ids,
        writable_account_ids=account_ids if role is ApiKeyRole.ADMIN else frozenset(),
        caller=f"oidc:{str(claims.get('sub', ''))[:64]}",
    )
