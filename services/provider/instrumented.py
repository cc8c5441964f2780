"""A `PaymentProvider` wrapper that times every call and reports failures.

Why a wrapper: latency and error rates of the provider are what an operator looks
at first when payments slow down, and measuring at this seam covers every caller
(GraphQL mutations, the worker, webhooks) without touching them. The wrapper knows
nothing of Prometheus: it hands `(method, seconds, error)` to an `observe` callback
(services.observability.observe_provider_call), `error` being None, "unavailable" (outcome
unknown), "rejected" (the provider refused the request) or "error" (anything else).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from services.provider.base import PaymentProvider, ProviderError, ProviderUnavailableError
from services.provider.wrapper import ProviderWrapper

__all__ = ["InstrumentedProvider", "Observe"]

T = TypeVar("T")
Observe = Callable[[str, float, str | None], None]


class InstrumentedProvider(ProviderWrapper):
    """Forwards to `inner`; calls `observe(method, seconds, error)` after each call."""

    def __init__(self, inner: PaymentProvider, observe: Observe) -> None:
        super().__init__(inner)
        self._observe = observe

    async def _around(
        self, method: str, kwargs: dict[str, Any], call: Callable[[], Awaitable[T]]
    ) -> T:
        start = time.perf_counter()
        error: str | None = "error"  # anything else: a bug or a cancellation
        try:
            result = await call()
            error = None
            return result
        except ProviderError:
            error = "rejected"
            raise
        except ProviderUnavailableError:
            error = "unavailable"
            raise
        finally:
            self._observe(method, time.perf_counter() - start, error)
