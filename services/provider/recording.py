"""A `PaymentProvider` wrapper that remembers every call, for tests.

Why: the gateway's promise on a refusal (bad input, wrong role, invoice not payable,
...) is that no money moved and the provider was never asked. Wrapping the real
provider (the sandbox) keeps tests end-to-end while letting them assert exactly
which provider calls happened, in order. `fail_next` injects one failure into the
next call of a method, so error paths run without a fault-injecting proxy.

Recorded kwargs are safe to print: values under secret-looking names are replaced.
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
    SetupResult,
)

__all__ = ["RecordingProvider"]

T = TypeVar("T")

_SECRET_NAMES = frozenset({"client_secret", "api_key", "secret", "number", "cvc", "password"})
_REDACTED = "<redacted>"


def _scrub(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: (_REDACTED if k in _SECRET_NAMES else v) for k, v in kwargs.items()}


class RecordingProvider:
    """Forwards to `inner`; appends `(method_name, kwargs)` to `calls` before each call."""

    def __init__(self, inner: PaymentProvider) -> None:
        self.inner = inner
        self.name = inner.name
        self.publishable_key = inner.publishable_key
        self.js_url = inner.js_url
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._failures: dict[str, list[BaseException]] = {}

    # -- test helpers --------------------------------------------------------------

    def reset(self) -> None:
        """Forget recorded calls and pending injected failures."""
        self.calls.clear()
        self._failures.clear()

    def names(self) -> list[str]:
        """Just the method names, in call order."""
        return [name for name, _ in self.calls]

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.calls if name == method]

    def fail_next(self, method: str, exc: BaseException) -> None:
        """Make the next call of `method` raise `exc` (recorded, never forwarded)."""
        self._failures.setdefault(method, []).append(exc)

    async def _run(
        self, method: str, kwargs: dict[str, Any], call: Callable[[], Awaitable[T]]
    ) -> T:
        self.calls.append((method, _scrub(kwargs)))
        pending = self._failures.get(method)
        if pending:
            raise pending.pop(0)
        return await call()

    # -- PaymentProvider -----------------------------------------------------------

    async def create_customer(self, *, email: str, name: str, idempotency_key: str) -> str:
        kw = {"email": email, "name": name, "idempotency_key": idempotency_key}
        return await self._run("create_customer", kw, lambda: self.inner.create_customer(**kw))

    async def create_setup_intent(self, *, customer_id: str) -> SetupResult:
        kw = {"customer_id": customer_id}
        return await self._run(
            "create_setup_intent", kw, lambda: self.inner.create_setup_intent(**kw)
        )

    async def retrieve_setup_intent(self, setup_intent_id: str) -> SetupResult:
        return await self._run(
            "retrieve_setup_intent",
            {"setup_intent_id": setup_intent_id},
            lambda: self.inner.retrieve_setup_intent(setup_intent_id),
        )

    async def setup_payment_method(
        self, *, customer_id: str, payment_method_id: str, idempotency_key: str
    ) -> SetupResult:
        kw = {
            "customer_id": customer_id,
            "payment_method_id": payment_method_id,
            "idempotency_key": idempotency_key,
        }
        return await self._run(
            "setup_payment_method", kw, lambda: self.inner.setup_payment_method(**kw)
        )

    async def attach_payment_method(
        self, *, payment_method_id: str, customer_id: str
    ) -> CardDetails:
        kw = {"payment_method_id": payment_method_id, "customer_id": customer_id}
        return await self._run(
            "attach_payment_method", kw, lambda: self.inner.attach_payment_method(**kw)
        )

    async def detach_payment_method(self, payment_method_id: str) -> None:
        await self._run(
            "detach_payment_method",
            {"payment_method_id": payment_method_id},
            lambda: self.inner.detach_payment_method(payment_method_id),
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
        recorded = {
            "customer_id": customer_id,
            "payment_method_id": payment_method_id,
            "amount": amount,
            "currency": currency,
            "idempotency_key": idempotency_key,
            "off_session": off_session,
            "metadata": dict(metadata),
        }
        return await self._run(
            "charge",
            recorded,
            lambda: self.inner.charge(
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
        return await self._run(
            "retrieve_charge",
            {"payment_intent_id": payment_intent_id},
            lambda: self.inner.retrieve_charge(payment_intent_id),
        )

    async def cancel_charge(self, payment_intent_id: str) -> ChargeResult:
        return await self._run(
            "cancel_charge",
            {"payment_intent_id": payment_intent_id},
            lambda: self.inner.cancel_charge(payment_intent_id),
        )

    async def list_charges(self, *, since: datetime | None = None) -> list[ChargeRecord]:
        return await self._run(
            "list_charges", {"since": since}, lambda: self.inner.list_charges(since=since)
        )

    async def ping(self) -> None:
        await self._run("ping", {}, self.inner.ping)

    async def close(self) -> None:
        """Closing is lifecycle, not a provider request: forwarded but not recorded."""
        await self.inner.close()
