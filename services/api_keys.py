"""The life of an API key after it is created: list, rotate, revoke, re-hash.

Rotation hands out a successor for the same principal and keeps the old key working
for an overlap (so deployed clients can switch), then it expires by itself; a
principal never has more than `MAX_ACTIVE_KEYS` active keys. Revocation is at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q

from models import Account, ApiKey, ApiKeyRole, PartnerAccess
from services.auth import (
    LEGACY_HASH,
    MAX_ACTIVE_KEYS,
    PEPPERED_HASH,
    KeyHasher,
    active_keys,
    insert_key,
)
from services.auth_cache import KEY_CACHE
from services.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class KeyInfo:
    """What an operator may see of a key: never its secret or hash."""

    prefix: str
    role: ApiKeyRole
    principal: str
    label: str
    accounts: tuple[str, ...]
    writable_accounts: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


async def list_api_keys(
    *, now: datetime, account_email: str | None = None, include_inactive: bool = False
) -> list[KeyInfo]:
    """Keys, oldest first; only active ones unless asked; only one account's when given
    (its own keys and the partner keys that reach it)."""
    query = ApiKey.all() if include_inactive else active_keys(now)
    if account_email is not None:
        account = await Account.get_or_none(email=account_email)
        if account is None:
            raise NotFound(f"No account with email {account_email!r}.", field="account")
        partner_key_ids = await PartnerAccess.filter(account_id=account.id).values_list(
            "api_key_id", flat=True
        )
        query = query.filter(Q(id__in=[*partner_key_ids, 0]) | Q(account_id=account.id))
    keys = await query.order_by("created_at", "id").prefetch_related("account")
    grants = await PartnerAccess.filter(api_key_id__in=[k.id for k in keys]).prefetch_related(
        "account"
    )
    by_key: dict[int, list[PartnerAccess]] = {}
    for grant in grants:
        by_key.setdefault(grant.api_key_id, []).append(grant)
    infos = []
    for key in keys:
        if key.role is ApiKeyRole.PARTNER:
            mine = sorted(by_key.get(key.id, []), key=lambda g: g.account.email)
            emails = tuple(g.account.email for g in mine)
            writable = tuple(g.account.email for g in mine if g.can_write)
        else:
            emails = (key.account.email,) if key.account is not None else ()
            writable = emails if key.role is ApiKeyRole.ADMIN else ()
        infos.append(
            KeyInfo(
                prefix=key.prefix,
                role=key.role,
                principal=key.principal,
                label=key.label,
                accounts=emails,
                writable_accounts=writable,
                created_at=key.created_at,
                expires_at=key.expires_at,
                last_used_at=key.last_used_at,
                revoked_at=key.revoked_at,
            )
        )
    return infos


async def revoke_api_key(*, prefix: str, now: datetime) -> bool:
    """Revoke at once; False when it was already revoked. NotFound for an unknown prefix."""
    key = await ApiKey.get_or_none(prefix=prefix)
    if key is None:
        raise NotFound(f"No API key with prefix {prefix!r}.", field="prefix")
    changed = await ApiKey.filter(id=key.id, revoked_at=None).update(revoked_at=now)
    KEY_CACHE.forget_key(key.id)  # at once in this process; in the others within its TTL
    return changed == 1


async def rotate_api_key(
    *, prefix: str, now: datetime, overlap: timedelta, hasher: KeyHasher
) -> str:
    """A successor for the principal of an active key; the old one expires after `overlap`.
    Returns the new secret, shown once."""
    if overlap < timedelta(0):
        raise InvalidInput("The overlap cannot be negative.", field="overlap")
    old = await active_keys(now).get_or_none(prefix=prefix)
    if old is None:
        raise NotFound(f"No active API key with prefix {prefix!r}.", field="prefix")
    others = await active_keys(now).filter(principal=old.principal).exclude(id=old.id).count()
    if others + 2 > MAX_ACTIVE_KEYS:
        raise InvalidInput(
            f"This principal already has {MAX_ACTIVE_KEYS} active keys: revoke one first.",
            field="prefix",
        )
    account = None if old.account_id is None else await Account.get(id=old.account_id)
    lifetime = None if old.expires_at is None else old.expires_at - old.created_at
    secret, new = await insert_key(
        hasher,
        principal=old.principal,
        role=old.role,
        account=account,
        label=old.label,
        now=now,
        expires_at=None if lifetime is None else now + lifetime,
    )
    grants = await PartnerAccess.filter(api_key_id=old.id)
    await PartnerAccess.bulk_create(
        [PartnerAccess(api_key=new, account_id=g.account_id, can_write=g.can_write) for g in grants]
    )
    ends = now + overlap
    if old.expires_at is None or old.expires_at > ends:
        await ApiKey.filter(id=old.id).update(expires_at=ends)
        KEY_CACHE.forget_key(old.id)  # its new expiry, at once here
    return secret


async def upgrade_legacy_hashes(hasher: KeyHasher) -> int:
    """Pepper every plain SHA-256 hash left from before the pepper; returns how many.
    The stored digest is the HMAC's input, so the keys themselves are not needed."""
    count = 0
    for key in await ApiKey.filter(hash_version=LEGACY_HASH):
        updated = await ApiKey.filter(id=key.id, hash_version=LEGACY_HASH).update(
            secret_hash=hasher.pepper_digest(key.secret_hash), hash_version=PEPPERED_HASH
        )
        count += updated
    return count
