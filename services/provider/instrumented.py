"""A `PaymentProvider` wrapper that times every call and reports failures.

Why a wrapper: latency and error rates of the provider are what an operator looks
at first when payments slow down, and measuring at this seam covers every caller
(GraphQL mutations, the worker, webhooks) without touching them. The wrapper knows
nothing of Prometheus: it hands `(method, seconds, error)` to an `observe` callback
(gateway.metrics.observe_provider_call), `error` being None, "unavailable" (outcome
unknown), "rejected" (the provider refused the request) or "error" (anything else).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from services.provider.base import (
    CardDetails,
    ChargeRecord,
    ChargeResult,
    PaymentProvider,
    ProviderError,
    ProviderUnavailableError,
    SetupResult,
)

__all__ = ["InstrumentedProvider", "Observe"]

T = TypeVar("T")
Observe = Callable[[str, float, str | None], None]


class InstrumentedProvider:
    """Forwards to `inner`; calls `observe(method, seconds, error)` after each call."""

    def __init__(self, inner: PaymentProvider, observe: Observe) -> None:
        self.inner = inner
        self.name = inner.name
        self.publishable_key = inner.publishable_key
        self.js_url = inner.js_url
        self._observe = observe

    async def _timed(self, method: str, call: Awaitable[T]) -> T:
        start = time.perf_counter()
        error: str | None = "error"  # anything else: a bug or a cancellation
        try:
            result = await call
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

    async def create_customer(self, *, email: str, name: str, idempotency_key: str) -> str:
        return await self._timed(
            "create_customer",
            self.inner.create_customer(email=email, name=name, idempotency_key=idempotency_key),
        )

    async def create_setup_intent(self, *, customer_id: str) -> SetupResult:
        return await self._timed(
            "create_setup_intent", self.inner.create_setup_intent(customer_id=customer_id)
        )

    async def retrieve_setup_intent(self, setup_intent_id: str) -> SetupResult:
        return await self._timed(
            "retrieve_setup_intent", self.inner.retrieve_setup_intent(setup_intent_id)
        )

    async def setup_payment_method(
        self, *, customer_id: str, payment_method_id: str, idempotency_key: str
    ) -> SetupResult:
        return await self._timed(
            "setup_payment_method",
            self.inner.setup_payment_method(
                customer_id=customer_id,
                payment_method_id=payment_method_id,
                idempotency_key=idempotency_key,
            ),
        )

    async def attach_payment_method(
        self, *, payment_method_id: str, customer_id: str
    ) -> CardDetails:
        return await self._timed(
            "attach_payment_method",
            self.inner.attach_payment_method(
                payment_method_id=payment_method_id, customer_id=customer_id
            ),
        )

    async def detach_payment_method(self, payment_method_id: str) -> None:
        await self._timed(
            "detach_payment_method", self.inner.detach_payment_method(payment_method_id)
        )

    async def charge(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        off_session: bool,
        metadata: dict[str, str],
    ) -> ChargeResult:
        return await self._timed(
            "charge",
            self.inner.charge(
                customer_id=customer_id,
                payment_method_id=payment_method_id,
                amount=amount,
                currency=currency,
                idempotency_key=idempotency_key,
                off_session=off_session,
                metadata=metadata,
            ),
        )

    async def retrieve_charge(self, payment_intent_id: str) -> ChargeResult:
        return await self._timed("retrieve_charge", self.inner.retrieve_charge(payment_intent_id))

    async def cancel_charge(self, payment_intent_id: str) -> ChargeResult:
        return await self._timed("cancel_charge", self.inner.cancel_charge(payment_intent_id))

    async def list_charges(self, *, since: datetime | None = None) -> list[ChargeRecord]:
        return await self._timed("list_charges", self.inner.list_charges(since=since))

    async def ping(self) -> None:
        await self._timed("ping", self.inner.ping())

    async def close(self) -> None:
        await self.inner.close()


def _is_a_provider(wrapper: InstrumentedProvider) -> PaymentProvider:
    return wrapper  # mypy: the wrapper must keep up with every method of the protocol
