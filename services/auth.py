"""API keys: random, shown once, stored as SHA-256, bound to an account and a role.

A key looks like `bgw_<prefix>_<secret>`; the prefix finds the row, the hash of the
whole key is compared in constant time. Keys are 256-bit random, so a fast hash is
enough (no password stretching needed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from models import Account, ApiKey, ApiKeyRole, PartnerAccess
from services.errors import InvalidInput, NotFound, Unauthenticated

KEY_PREFIX = "bgw"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role and the accounts it may see."""

    role: ApiKeyRole
    account_ids: frozenset[int]
    key_id: int | None = None

    @property
    def can_write(self) -> bool:
        return self.role is ApiKeyRole.ADMIN

    def sees(self, account_id: int) -> bool:
        return account_id in self.account_ids


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(
    *, account_email: str, role: ApiKeyRole, now: datetime, label: str = ""
) -> str:
    """Create a key for one account (admin or viewer); returns the secret, shown once."""
    if role is ApiKeyRole.PARTNER:
        raise InvalidInput("Use create_partner_key for partner keys.", field="role")
    account = await Account.get_or_none(email=account_email)
    if account is None:
        raise NotFound(f"No account with email {account_email!r}.", field="account")
    secret, prefix = _new_secret()
    await ApiKey.create(
        prefix=prefix,
        secret_hash=_hash(secret),
        role=role,
        account=account,
        label=label,
        created_at=now,
    )
    return secret


async def create_partner_key(*, account_emails: list[str], now: datetime, label: str = "") -> str:
    """Create a read-only key over several accounts; returns the secret, shown once."""
    accounts = await Account.filter(email__in=account_emails)
    missing = set(account_emails) - {a.email for a in accounts}
    if missing:
        raise NotFound(f"No account with email {sorted(missing)[0]!r}.", field="account")
    secret, prefix = _new_secret()
    key = await ApiKey.create(
        prefix=prefix,
        secret_hash=_hash(secret),
        role=ApiKeyRole.PARTNER,
        label=label,
        created_at=now,
    )
    await PartnerAccess.bulk_create([PartnerAccess(api_key=key, account=a) for a in accounts])
    return secret


def _new_secret() -> tuple[str, str]:
    prefix = secrets.token_hex(6)
    return f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}", prefix


async def authenticate(authorization: str | None) -> Principal:
    """Turn an `Authorization: Bearer ...` header into a Principal, or raise Unauthenticated."""
    if not authorization:
        raise Unauthenticated("Send an API key: Authorization: Bearer <key>.")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Send an API key: Authorization: Bearer <key>.")
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise Unauthenticated()
    key = await ApiKey.get_or_none(prefix=parts[1], revoked_at=None)
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(token)):
        raise Unauthenticated()
    if key.role is ApiKeyRole.PARTNER:
        grants = await PartnerAccess.filter(api_key_id=key.id)
        return Principal(
            role=key.role, account_ids=frozenset(g.account_id for g in grants), key_id=key.id
        )
    assert key.account_id is not None
    return Principal(
        role=key.role,
        account_ids=frozenset({key.account_id}),
        key_id=key.id,
    )
