"""What the gateway needs from a payment provider: vault cards, move money.

Results are plain frozen dataclasses so services never touch SDK objects. A card
decline is a *result* (status "failed" with a code), not an exception; exceptions
are for "we do not know what happened" (`ProviderUnavailableError`) and for requests
the provider rejected as invalid (`ProviderError`, e.g. an unknown token).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

SetupStatus = Literal["succeeded", "requires_action", "processing", "failed"]
ChargeStatus = Literal["succeeded", "requires_action", "processing", "failed", "canceled"]


class ProviderError(Exception):
    """The provider rejected the request itself (bad token, wrong customer, ...)."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class ProviderUnavailableError(Exception):
    """Network error, timeout, 5xx, 429 or 409 in flight: the outcome is unknown."""


@dataclass(frozen=True)
class ProviderAddress:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class CardDetails:
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    funding: str  # "credit" | "debit" | "prepaid" | "unknown"
    customer_id: str | None = None
    billing_address: ProviderAddress | None = None


@dataclass(frozen=True)
class SetupResult:
    setup_intent_id: str
    status: SetupStatus
    client_secret: str | None
    customer_id: str | None
    payment_method_id: str | None
    card: CardDetails | None = None
    redirect_url: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class ChargeResult:
    payment_intent_id: str
    status: ChargeStatus
    amount: int
    currency: str  # upper-case ISO 4217
    client_secret: str | None = None
    redirect_url: str | None = None
    failure_code: str | None = None  # decline code, e.g. "card_declined", "insufficient_funds"
    failure_message: str | None = None


@dataclass(frozen=True)
class ChargeRecord:
    """One PaymentIntent as the provider's books have it (reconciliation, and checking a
    webhook's claim): whose it is, what it carries, and how much of it was refunded."""

    charge: ChargeResult
    metadata: dict[str, str]
    created: datetime
    customer_id: str | None = None
    amount_refunded: int = 0  # of its latest charge, in minor units


class PaymentProvider(Protocol):
    name: str
    publishable_key: str
    js_url: str

    async def create_customer(self, *, email: str, name: str, idempotency_key: str) -> str:
        """Create the provider customer for an account; returns its id (cus_...)."""
        ...

    async def create_setup_intent(self, *, customer_id: str) -> SetupResult:
        """Start a setup the browser finishes (setup-first flow)."""
        ...

    async def retrieve_setup_intent(self, setup_intent_id: str) -> SetupResult:
        """Read a setup; `card` is filled when it carries a payment method."""
        ...

    async def setup_payment_method(
        self, *, customer_id: str, payment_method_id: str, idempotency_key: str
    ) -> SetupResult:
        """Token-first flow: attach `pm_...` to the customer and confirm a SetupIntent."""
        ...

    async def attach_payment_method(
        self, *, payment_method_id: str, customer_id: str
    ) -> CardDetails:
        """Attach (idempotently) and return the card's details."""
        ...

    async def detach_payment_method(self, payment_method_id: str) -> None: ...

    async def update_payment_method(
        self,
        *,
        payment_method_id: str,
        exp_month: int | None = None,
        exp_year: int | None = None,
        billing_address: ProviderAddress | None = None,
    ) -> None:
        """Change a vaulted card's expiry and billing address (None: leave as is)."""
        ...

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
        """Create and confirm a PaymentIntent. Same idempotency key, same charge."""
        ...

    async def retrieve_charge(self, payment_intent_id: str) -> ChargeResult: ...

    async def retrieve_payment_intent(self, payment_intent_id: str) -> ChargeRecord:
        """The PaymentIntent with its customer, metadata and refunded total: what a
        webhook event is checked against before it settles anything."""
        ...

    async def retrieve_payment_method(self, payment_method_id: str) -> CardDetails:
        """The card as vaulted now; `customer_id` is None once it is detached."""
        ...

    async def cancel_charge(self, payment_intent_id: str) -> ChargeResult: ...

    async def list_charges(self, *, since: datetime | None = None) -> list[ChargeRecord]:
        """Every PaymentIntent created since `since` (all when None), oldest first."""
        ...

    async def ping(self) -> None:
        """Raise ProviderUnavailableError when the provider cannot be reached."""
        ...

    async def close(self) -> None: ...
