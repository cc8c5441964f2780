"""Rate limits in fixed windows: in memory for one process, or shared through Redis.

A bucket is a string; each hit adds a cost and is refused once the window's total
passes the limit, with the seconds left in the window as Retry-After. Redis errors let
the request through (and are logged): an outage of the limiter must not stop billing.

The buckets, one rule for every route that checks a credential:
- `key:<prefix>` / `oidc:<sub>`: an authenticated caller's traffic;
- `addr:<ip>`: anonymous traffic (no credential at all) from one address;
- `authfail:<ip>`: failed credentials from one address (a wrong API key or token, a
  bad signed document link, a wrong metrics token). Only failures count here, so a
  client guessing keys is refused (429) while valid keys behind the same NAT go on.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

log = logging.getLogger("gateway.ratelimit")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


class RateLimiter(Protocol):
    async def hit(self, bucket: str, limit: int, cost: int = 1) -> Verdict: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    """One process's counters; old windows are dropped as the table grows."""

    def __init__(
        self,
        window_seconds: int,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = 100_000,
    ) -> None:
        self.window = window_seconds
        self.clock = clock
        self.max_buckets = max_buckets
        self._counts: dict[str, tuple[int, int]] = {}

    async def hit(self, bucket: str, limit: int, cost: int = 1) -> Verdict:
        now = self.clock()
        window = int(now // self.window)
        seen_window, count = self._counts.get(bucket, (window, 0))
        count = (count if seen_window == window else 0) + cost
        if len(self._counts) >= self.max_buckets:
            self._counts = {b: v for b, v in self._counts.items() if v[0] == window}
        self._counts[bucket] = (window, count)
        if count <= limit:
            return Verdict(True)
        return Verdict(False, max(1, math.ceil((window + 1) * self.window - now)))

    async def close(self) -> None:
        return None


class RedisRateLimiter:
    """Counters shared by every gateway process: INCRBY + EXPIRE per bucket and window."""

    def __init__(self, url: str, window_seconds: int, prefix: str = "bgw:rl:") -> None:
        import redis.asyncio as redis

        self.window = window_seconds
        self.prefix = prefix
        self._redis: Any = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    async def hit(self, bucket: str, limit: int, cost: int = 1) -> Verdict:
        now = time.time()
        window = int(now // self.window)
        key = f"{self.prefix}{bucket}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incrby(key, cost)
                pipe.expire(key, self.window + 1)
                count, _ = await pipe.execute()
        except Exception as exc:  # the limiter failing must not stop billing
            log.warning("rate limiter unavailable, letting the request through: %s", exc)
            return Verdict(True)
        if int(count) <= limit:
            return Verdict(True)
        return Verdict(False, max(1, math.ceil((window + 1) * self.window - now)))

    async def close(self) -> None:
        await self._redis.aclose()


def authfail_bucket(address: str) -> str:
    return f"authfail:{address}"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def throttle_failed_auth(request: Request) -> Response | None:
    """Count a failed credential against its address; the 429 to answer once over.

    For the routes outside GraphQL (documents, metrics): they find the limiter and the
    settings on `app.state` (none there: not limited)."""
    limiter: RateLimiter | None = getattr(request.app.state, "limiter", None)
    settings = getattr(request.app.state, "settings", None)
    if limiter is None or settings is None:
        return None
    verdict = await limiter.hit(
        authfail_bucket(client_address(request)), settings.rate_limit_failed_auth_per_address
    )
    if verdict.allowed:
        return None
    return PlainTextResponse(
        "Too many failed attempts from this address: slow down.\n",
        status_code=429,
        headers={"Retry-After": str(verdict.retry_after)},
    )


def build_rate_limiter(redis_url: str | None, window_seconds: int) -> RateLimiter:
    if redis_url:
        return RedisRateLimiter(redis_url, window_seconds)
    return MemoryRateLimiter(window_seconds)
