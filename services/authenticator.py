"""One entry point for every bearer credential: API keys and OIDC tokens."""

from __future__ import annotations

from dataclasses import dataclass

from services.auth import KeyHasher, Principal, authenticate_key, bearer_token, looks_like_api_key
from services.clock import Clock
from services.errors import Unauthenticated
from services.tokens import TokenVerifier


@dataclass(frozen=True)
class Authenticator:
    hasher: KeyHasher
    clock: Clock
    tokens: TokenVerifier | None = None

    async def authenticate(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        if looks_like_api_key(token):
            return await authenticate_key(token, hasher=self.hasher, now=self.clock.now())
        if self.tokens is not None and token.count(".") == 2:
            return await self.tokens.principal(token)
        raise Unauthenticated()
