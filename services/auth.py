"""API keys: random, shown once, stored as a peppered hash, bound to a principal and a role.

A key looks like `bgw_<prefix>_<secret>`; the prefix finds the row, the hash of the
whole key is compared in constant time. Keys are 256-bit random, so a fast hash is
enough (no password stretching). The hash is HMAC-SHA256, keyed with a server-side
pepper, of the key's SHA-256: a stolen database alone cannot check guessed keys,
and the rows written before the pepper existed (plain SHA-256, `hash_version` 1)
are upgraded in place without knowing the keys (`services.api_keys.upgrade_legacy_hashes`).

A principal is who a key acts for: one account in one role, or one partner. At most
`MAX_ACTIVE_KEYS` keys of a principal are active at once, so a rotation overlaps an
old key and its successor and nothing more.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models import Account, ApiKey, ApiKeyRole, PartnerAccess
from services.errors import InvalidInput, NotFound, Unauthenticated

KEY_PREFIX = "bgw"
MAX_ACTIVE_KEYS = 2
LEGACY_HASH = 1
PEPPERED_HASH = 2
#: last_used_at is written at most this often per key (one UPDATE, not one per request).
LAST_USED_RESOLUTION = timedelta(seconds=60)
#: Only for development and tests; production refuses to start without its own pepper.
DEVELOPMENT_PEPPER = b"billing-gateway development pepper (not secret)"

log = logging.getLogger("services.auth")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role, the accounts it may see and those it may change."""

    role: ApiKeyRole
    account_ids: frozenset[int]
    key_id: int | None = None
    #: Partner keys write only where granted; other roles write by role.
    writable_account_ids: frozenset[int] = frozenset()
    #: For logs: `key:<prefix>` or `oidc:<subject>`; never a secret.
    caller: str = ""

    @property
    def can_write(self) -> bool:
        return self.role is ApiKeyRole.ADMIN or bool(self.writable_account_ids)

    def can_write_to(self, account_id: int) -> bool:
        if self.role is ApiKeyRole.ADMIN:
            return account_id in self.account_ids
        return account_id in self.writable_account_ids

    def sees(self, account_id: int) -> bool:
        return account_id in self.account_ids


@dataclass(frozen=True)
class KeyHasher:
    """Hashes keys under the server's pepper."""

    pepper: bytes

    @classmethod
    def development(cls) -> KeyHasher:
        return cls(DEVELOPMENT_PEPPER)

    def hash(self, key: str) -> str:
        return self.pepper_digest(_sha256(key))

    def pepper_digest(self, sha256_hex: str) -> str:
        return hmac.new(self.pepper, sha256_hex.encode(), hashlib.sha256).hexdigest()

    def matches(self, key: ApiKey, presented: str) -> bool:
        if key.hash_version == LEGACY_HASH:
            expected = _sha256(presented)
        else:
            expected = self.hash(presented)
        return hmac.compare_digest(key.secret_hash, expected)


def _sha256(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def account_principal(account_id: int, role: ApiKeyRole) -> str:
    return f"account:{account_id}:{role.value}"


def active_keys(now: datetime) -> QuerySet[ApiKey]:
    return ApiKey.filter(revoked_at=None).filter(Q(expires_at=None) | Q(expires_at__gt=now))


async def check_room_for_key(principal: str, now: datetime) -> None:
    if await active_keys(now).filter(principal=principal).count() >= MAX_ACTIVE_KEYS:
        raise InvalidInput(
            f"This principal already has {MAX_ACTIVE_KEYS} active keys: revoke one, or rotate.",
            field="principal",
        )


def _expiry(now: datetime, expires_in: timedelta | None) -> datetime | None:
    if expires_in is None:
        return None
    if expires_in <= timedelta(0):
        raise InvalidInput("A key's lifetime must be positive.", field="expiresIn")
    return now + expires_in


async def create_api_key(
    *,
    account_email: str,
    role: ApiKeyRole,
    now: datetime,
    label: str = "",
    expires_in: timedelta | None = None,
    hasher: KeyHasher | None = None,
) -> str:
    """Create a key for one account (admin or viewer); returns the secret, shown once."""
    if role is ApiKeyRole.PARTNER:
        raise InvalidInput("Use create_partner_key for partner keys.", field="role")
    if role is ApiKeyRole.SERVICE:
        raise InvalidInput("Use create_service_key for service keys.", field="role")
    account = await Account.get_or_none(email=account_email)
    if account is None:
        raise NotFound(f"No account with email {account_email!r}.", field="account")
    principal = account_principal(account.id, role)
    await check_room_for_key(principal, now)
    secret, _ = await insert_key(
        hasher or KeyHasher.development(),
        principal=principal,
        role=role,
        account=account,
        label=label,
        now=now,
        expires_at=_expiry(now, expires_in),
    )
    return secret


async def create_partner_key(
    *,
    account_emails: list[str],
    now: datetime,
    label: str = "",
    writable_emails: list[str] | None = None,
    expires_in: timedelta | None = None,
    hasher: KeyHasher | None = None,
) -> str:
    """Create a partner key over several accounts, read-only except the writable ones
    (which it also reads); returns the secret, shown once."""
    writable = set(writable_emails or [])
    wanted = set(account_emails) | writable
    accounts = await Account.filter(email__in=sorted(wanted))
    missing = wanted - {a.email for a in accounts}
    if missing:
        raise NotFound(f"No account with email {sorted(missing)[0]!r}.", field="account")
    secret, key = await insert_key(
        hasher or KeyHasher.development(),
        principal="",
        role=ApiKeyRole.PARTNER,
        account=None,
        label=label,
        now=now,
        expires_at=_expiry(now, expires_in),
    )
    key.principal = f"partner:{key.id}"
    await key.save(update_fields=["principal"])
    await PartnerAccess.bulk_create(
        [PartnerAccess(api_key=key, account=a, can_write=a.email in writable) for a in accounts]
    )
    return secret


async def create_service_key(
    *,
    now: datetime,
    label: str = "",
    expires_in: timedelta | None = None,
    hasher: KeyHasher | None = None,
) -> str:
    """Create a key for the product's backend (role service, bound to no account): it
    reports usage for any account and reads usage only. Returns the secret, shown once."""
    secret, key = await insert_key(
        hasher or KeyHasher.development(),
        principal="",
        role=ApiKeyRole.SERVICE,
        account=None,
        label=label,
        now=now,
        expires_at=_expiry(now, expires_in),
    )
    key.principal = f"service:{key.id}"
    await key.save(update_fields=["principal"])
    return secret


async def insert_key(
    hasher: KeyHasher,
    *,
    principal: str,
    role: ApiKeyRole,
    account: Account | None,
    label: str,
    now: datetime,
    expires_at: datetime | None,
) -> tuple[str, ApiKey]:
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = await ApiKey.create(
        prefix=prefix,
        secret_hash=hasher.hash(secret),
        hash_version=PEPPERED_HASH,
        principal=principal,
        role=role,
        account=account,
        label=label,
        created_at=now,
        expires_at=expires_at,
    )
    return secret, key


def looks_like_api_key(token: str) -> bool:
    return token.startswith(f"{KEY_PREFIX}_")


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer ...` header, or Unauthenticated."""
    if not authorization:
        raise Unauthenticated("Send an API key: Authorization: Bearer <key>.")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Send an API key: Authorization: Bearer <key>.")
    return token


async def authenticate_key(token: str, *, hasher: KeyHasher, now: datetime) -> Principal:
    """The principal of an active API key, or Unauthenticated (the same for every reason)."""
    principal, _ = await load_key(token, hasher=hasher, now=now)
    return principal


async def load_key(
    token: str, *, hasher: KeyHasher, now: datetime
) -> tuple[Principal, datetime | None]:
    """authenticate_key, with the key's expiry (for services.auth_cache)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise Unauthenticated()
    key = await active_keys(now).get_or_none(prefix=parts[1])
    if key is None or not hasher.matches(key, token):
        raise Unauthenticated()
    if key.hash_version == LEGACY_HASH:
        await ApiKey.filter(id=key.id).update(
            secret_hash=hasher.hash(token), hash_version=PEPPERED_HASH
        )
    LAST_USED.touch(key.id, key.prefix, now, key.last_used_at)
    caller = f"key:{key.prefix}"
    if key.role is ApiKeyRole.PARTNER:
        grants = await PartnerAccess.filter(api_key_id=key.id).values_list(
            "account_id", "can_write"
        )
        principal = Principal(
            role=key.role,
            account_ids=frozenset(account_id for account_id, _ in grants),
            key_id=key.id,
            writable_account_ids=frozenset(a for a, can_write in grants if can_write),
            caller=caller,
        )
    elif key.role is ApiKeyRole.SERVICE:
        # The product's backend: reports usage for any account (services/usage), sees
        # no account through the scoped lookups, so it reads nothing else.
        principal = Principal(role=key.role, account_ids=frozenset(), key_id=key.id, caller=caller)
    else:
        assert key.account_id is not None
        principal = Principal(
            role=key.role, account_ids=frozenset({key.account_id}), key_id=key.id, caller=caller
        )
    return principal, key.expires_at


class LastUsedWriter:
    """`last_used_at` at most once per LAST_USED_RESOLUTION per key, off the request path.

    Remembers per key (id and prefix: ids repeat after a database reset) the latest use
    it wrote or read; the UPDATE itself is conditional and fired without being awaited,
    so several processes write a key about once per resolution between them.
    """

    def __init__(self) -> None:
        self._last: dict[tuple[int, str], datetime] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def touch(self, key_id: int, prefix: str, now: datetime, stored: datetime | None) -> None:
        """Schedule the write when this key's last use is older than the resolution."""
        ident = (key_id, prefix)
        last = self._last.get(ident)
        if stored is not None and (last is None or stored > last):
            last = stored
        if last is not None and last >= now - LAST_USED_RESOLUTION:
            self._last[ident] = last
            return
        if len(self._last) >= 100_000:
            self._last.clear()
        self._last[ident] = now
        task = asyncio.get_running_loop().create_task(_write_last_used(key_id, now))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def flush(self) -> None:
        """Wait for the writes in flight (tests, shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)


async def _write_last_used(key_id: int, now: datetime) -> None:
    """One conditional UPDATE: a process that wrote within the resolution wins."""
    try:
        await ApiKey.filter(
            Q(last_used_at=None) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION), id=key_id
        ).update(last_used_at=now)
    except Exception as exc:  # a lost timestamp must never fail a request
        log.warning("last_used_at not written", extra={"error_class": type(exc).__name__})


#: The process's writer of last_used_at.
LAST_USED = LastUsedWriter()


async def authenticate(
    authorization: str | None,
    *,
    hasher: KeyHasher | None = None,
    now: datetime | None = None,
) -> Principal:
    """An `Authorization: Bearer <api key>` header as a Principal, or Unauthenticated.
    (The gateway uses services.authenticator, which also takes OIDC tokens.)"""
    from services.clock import SystemClock

    return await authenticate_key(
        bearer_token(authorization),
        hasher=hasher or KeyHasher.development(),
        now=now or SystemClock().now(),
    )
