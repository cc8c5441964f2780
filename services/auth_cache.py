"""Authenticated API keys, remembered per process for a few seconds.

Authenticating a key costs a SELECT of the key (plus one of its grants for a partner
key) on every request; most requests come from a key seen moments ago. The cache maps
the key's peppered hash (never the key itself) to the principal it authenticated as,
for `TTL_SECONDS` of the process's monotonic clock.

The bound, documented in docs/security.md and tested in tests/security/test_auth_cache.py:
- revoking or rotating a key in this process (services.api_keys) forgets it at once;
- revoking it in another process (another `serve` worker, the CLI) takes effect here
  within `TTL_SECONDS` (plus the request in flight);
- a key's own expiry (`expires_at`, which rotation sets on the old key) is checked on
  every request against the service clock, cached or not.

`last_used_at` is written at most once per `LAST_USED_RESOLUTION` per key, by a
conditional UPDATE fired in the background (services.auth.LastUsedWriter): never
awaited on the request path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.auth import Principal

#: How long a process trusts a key it authenticated without asking the database again.
TTL_SECONDS = 5.0
#: Entries beyond this are dropped, oldest first (a flood of distinct valid keys).
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    expires_at: datetime | None
    fetched_at: float


class KeyCache:
    """Principals by peppered key hash, each trusted for `ttl` seconds of `monotonic`."""

    def __init__(
        self,
        ttl: float = TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.ttl = ttl
        self.monotonic = monotonic
        self.max_entries = max_entries
        self._entries: dict[str, _Entry] = {}

    def get(self, digest: str, now: datetime) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if self.monotonic() - entry.fetched_at >= self.ttl or (
            entry.expires_at is not None and entry.expires_at <= now
        ):
            del self._entries[digest]
            return None
        return entry.principal

    def put(self, digest: str, principal: Principal, expires_at: datetime | None) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            for old in list(self._entries)[: max(1, self.max_entries // 10)]:
                del self._entries[old]
        self._entries[digest] = _Entry(principal, expires_at, self.monotonic())

    def forget_key(self, key_id: int) -> None:
        """Drop every entry of one key (revoked or rotated in this process)."""
        for digest in [d for d, e in self._entries.items() if e.principal.key_id == key_id]:
            del self._entries[digest]

    def clear(self) -> None:
        self._entries.clear()


#: The process's cache, shared by every Authenticator the gateway builds and forgotten
#: into by services.api_keys when a key is revoked or rotated here.
KEY_CACHE = KeyCache()
