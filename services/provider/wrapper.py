"""A `PaymentProvider` that forwards every call to another through one hook.

The recording (tests) and instrumented (metrics) wrappers differ only in what they
do around a call, so each method's forwarding is written once, here; subclasses
override `_around`. mypy checks at the bottom that the wrapper keeps up with the
protocol.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from services.provider.base import (
    CardDetails,
    ChargeRecord,
    ChargeResult,
    PaymentProvider,
    ProviderAddress,
    SetupResult,
)

T = TypeVar("T")


class ProviderWrapper:
    def __init__(self, inner: PaymentProvider) -> None:
        self.inner = inner
        self.name = inner.name
        self.publishable_key = inner.publishable_key
        self.js_url = inner.js_url

    async def _around(
        self, method: str, kwargs: dict[str, Any], call: Callable[[], Awaitable[T]]
    ) -> T:
        """Run `call` (the forwarded request); `kwargs` are its arguments, by name."""
        return await call()

    async def _forward(self, method: str, **kwargs: Any) -> Any:
        return await self._around(method, kwargs, lambda: getattr(self.inner, method)(**kwargs))

    async def create_customer(self, *, email: str, name: str, idempotency_key: str) -> str:
        result: str = await self._forward(
            "create_customer", email=email, name=name, idempotency_key=idempotency_key
        )
        return result

    async def create_setup_intent(self, *, customer_id: str) -> SetupResult:
        result: SetupResult = await self._forward("create_setup_intent", customer_id=customer_id)
        return result

    async def retrieve_setup_intent(self, setup_intent_id: str) -> SetupResult:
        result: SetupResult = await self._forward(
            "retrieve_setup_intent", setup_intent_id=setup_intent_id
        )
        return result

    async def setup_payment_method(
        self, *, customer_id: str, payment_method_id: str, idempotency_key: str
    ) -> SetupResult:
        result: SetupResult = await self._forward(
            "setup_payment_method",
            customer_id=customer_id,
            payment_method_id=payment_method_id,
            idempotency_key=idempotency_key,
        )
        return result

    async def attach_payment_method(
        self, *, payment_method_id: str, customer_id: str
    ) -> CardDetails:
        result: CardDetails = await self._forward(
            "attach_payment_method", payment_method_id=payment_method_id, customer_id=customer_id
        )
        return result

    async def detach_payment_method(self, payment_method_id: str) -> None:
        await self._forward("detach_payment_method", payment_method_id=payment_method_id)

    async def update_payment_method(
        self,
        *,
        payment_method_id: str,
        exp_month: int | None = None,
        exp_year: int | None = None,
        billing_address: ProviderAddress | None = None,
    ) -> None:
        await self._forward(
            "update_payment_method",
            payment_method_id=payment_method_id,
            exp_month=exp_month,
            exp_year=exp_year,
            billing_address=billing_address,
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
        result: ChargeResult = await self._forward(
            "charge",
            customer_id=customer_id,
            payment_method_id=payment_method_id,
            amount=amount,
            currency=currency,
            idempotency_key=idempotency_key,
            off_session=off_session,
            metadata=metadata,
        )
        return result

    async def retrieve_charge(self, payment_intent_id: str) -> ChargeResult:
        result: ChargeResult = await self._forward(
            "retrieve_charge", payment_intent_id=payment_intent_id
        )
        return result

    async def retrieve_payment_intent(self, payment_intent_id: str) -> ChargeRecord:
        result: ChargeRecord = await self._forward(
            "retrieve_payment_intent", payment_intent_id=payment_intent_id
        )
        return result

    async def retrieve_payment_method(self, payment_method_id: str) -> CardDetails:
        result: CardDetails = await self._forward(
            "retrieve_payment_method", payment_method_id=payment_method_id
        )
        return result

    async def cancel_charge(self, payment_intent_id: str) -> ChargeResult:
        result: ChargeResult = await self._forward(
            "cancel_charge", payment_intent_id=payment_intent_id
        )
        return result

    async def list_charges(self, *, since: datetime | None = None) -> list[ChargeRecord]:
        result: list[ChargeRecord] = await self._forward("list_charges", since=since)
        return result

    async def ping(self) -> None:
        await self._forward("ping")

    async def close(self) -> None:
        """Closing is lifecycle, not a provider request: forwarded without the hook."""
        await self.inner.close()


def _is_a_provider(wrapper: ProviderWrapper) -> PaymentProvider:
    return wrapper  # mypy: the wrapper must keep up with every method of the protocol
