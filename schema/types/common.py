"""Small value types shared by the object types."""

from __future__ import annotations

from functools import lru_cache

import strawberry

from services.addresses import Address as AddressValue
from services.billing_info import BillingInfo as BillingInfoValue
from services.card_setup import NextAction as NextActionValue
from services.money import Money as MoneyValue


@strawberry.interface(description="An object with a global, opaque ID.")
class Node:
    id: strawberry.ID


@lru_cache(maxsize=4096)
def format_money(amount: int, currency: str) -> str:
    """Babel's formatting costs ~100 us a call and a page repeats a few amounts many times."""
    return MoneyValue(amount, currency).format()


@strawberry.type(description="An amount in minor units (cents) of an ISO 4217 currency.")
class Money:
    amount: int
    currency: str

    @strawberry.field
    def formatted(self) -> str:
        return format_money(self.amount, self.currency)

    @classmethod
    def of(cls, amount: int, currency: str) -> Money:
        return cls(amount=amount, currency=currency)

    @classmethod
    def from_value(cls, money: MoneyValue) -> Money:
        return cls(amount=money.amount, currency=money.currency)


@strawberry.type
class Address:
    line1: str | None
    line2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None

    @classmethod
    def from_value(cls, value: AddressValue | None) -> Address | None:
        return None if value is None else cls(**value.as_dict())


@strawberry.type
class BillingInfo:
    name: str | None
    email: str | None
    address: Address | None
    tax_id: str | None

    @classmethod
    def from_value(cls, value: BillingInfoValue) -> BillingInfo:
        return cls(
            name=value.name,
            email=value.email,
            address=Address.from_value(value.address),
            tax_id=value.tax_id,
        )


@strawberry.type(description="What the browser must do next: run 3-D Secure with Stripe.js.")
class NextAction:
    type: str
    redirect_url: str | None
    client_secret: str | None

    @classmethod
    def from_value(cls, value: NextActionValue | None) -> NextAction | None:
        if value is None:
            return None
        return cls(
            type=value.type, redirect_url=value.redirect_url, client_secret=value.client_secret
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
