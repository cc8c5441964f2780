"""Small value types shared by the object types."""

from __future__ import annotations

from collections.abc import Sequence
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


@strawberry.type(
    description=(
        "Where a page sits in its list, per the Relay cursor connections spec. Page forward "
        "by passing `endCursor` as the next `after` while `hasNextPage` is true."
    )
)
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when more items follow this page; ask again with `after: endCursor`."
    )
    has_previous_page: bool = strawberry.field(
        description=(
            "True when this page was asked for with `after` and items precede it; always "
            "false on a first page. Connections here page forward only (`first`/`after`)."
        )
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the first edge on this page; null when the page is empty."
    )
    end_cursor: str | None = strawberry.field(
        description=(
            "The cursor of the last edge on this page, to pass as `after` for the next page; "
            "null when the page is empty."
        )
    )

    @classmethod
    def of(
        cls, cursors: Sequence[str], *, has_next_page: bool, has_previous_page: bool
    ) -> PageInfo:
        return cls(
            has_next_page=has_next_page,
            has_previous_page=has_previous_page,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )
