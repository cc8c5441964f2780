"""One entry point for every bearer credential: API keys and OIDC tokens."""

from __future__ import annotations

from dataclasses import dataclass

from services.auth import (
    LAST_USED,
    KeyHasher,
    Principal,
    bearer_token,
    load_key,
    looks_like_api_key,
)
from services.auth_cache import KeyCache
from services.clock import Clock
from services.errors import Unauthenticated
from services.tokens import TokenVerifier


@dataclass(frozen=True)
class Authenticator:
    hasher: KeyHasher
    clock: Clock
    tokens: TokenVerifier | None = None
    #: API keys authenticated moments ago (services/auth_cache.py); None: ask every time.
    cache: KeyCache | None = None

    async def authenticate(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        if looks_like_api_key(token):
            return await self._api_key(token)
        if self.tokens is not None and token.count(".") == 2:
            return await self.tokens.principal(token)
        raise Unauthenticated()

    async def _api_key(self, token: str) -> Principal:
        now = self.clock.now()
        if self.cache is None:
            principal, _ = await load_key(token, hasher=self.hasher, now=now)
            return principal
        digest = self.hasher.hash(token)
        cached = self.cache.get(digest, now)
        if cached is not None and cached.key_id is not None:
            LAST_USED.touch(cached.key_id, token.split("_", 2)[1], now, None)
            return cached
        principal, expires_at = await load_key(token, hasher=self.hasher, now=now)
        self.cache.put(digest, principal, expires_at)
        return principal
