"""Small value types shared by the object types."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import strawberry

from services.addresses import Address as AddressValue
from services.billing_info import BillingInfo as BillingInfoValue
from services.card_setup import NextAction as NextActionValue
from services.money import Money as MoneyValue


@strawberry.interface(
    description=(
        "An object with a global ID (Relay's Node): fetch any of them again with `node(id:)`."
    )
)
class Node:
    id: strawberry.ID = strawberry.field(
        description=(
            "The object's global ID: opaque and stable. Pass it back as is (to `node`, "
            "`account` or a mutation input); do not parse it."
        )
    )


@lru_cache(maxsize=4096)
def format_money(amount: int, currency: str) -> str:
    """Babel's formatting costs ~100 us a call and a page repeats a few amounts many times."""
    return MoneyValue(amount, currency).format()


@strawberry.type(
    description=(
        "An amount of money: an integer count of the currency's minor units (cents for USD) "
        "plus its ISO 4217 currency code. Never a float."
    )
)
class Money:
    amount: int = strawberry.field(
        description=(
            "The amount in minor units of `currency`: 2900 with USD is $29.00. Integer, "
            "never a float."
        )
    )
    currency: str = strawberry.field(
        description="The ISO 4217 currency code in upper case, e.g. USD or EUR."
    )

    @strawberry.field(
        description=(
            "The amount written for people, e.g. `$29.00`, in the gateway's locale. For "
            "display only: compute with `amount`."
        )
    )
    def formatted(self) -> str:
        return format_money(self.amount, self.currency)

    @classmethod
    def of(cls, amount: int, currency: str) -> Money:
        return cls(amount=amount, currency=currency)

    @classmethod
    def from_value(cls, money: MoneyValue) -> Money:
        return cls(amount=money.amount, currency=money.currency)


@strawberry.type(
    description="A postal address. Every part is optional: a part never given reads null."
)
class Address:
    line1: str | None = strawberry.field(description="Street address; null when not given.")
    line2: str | None = strawberry.field(
        description="Apartment, suite or building; null when not given."
    )
    city: str | None = strawberry.field(description="City or locality; null when not given.")
    state: str | None = strawberry.field(
        description="State, province or region; null when not given."
    )
    postal_code: str | None = strawberry.field(
        description="Postal or ZIP code; null when not given."
    )
    country: str | None = strawberry.field(
        description="Two-letter ISO 3166-1 alpha-2 country code, e.g. US; null when not given."
    )

    @classmethod
    def from_value(cls, value: AddressValue | None) -> Address | None:
        return None if value is None else cls(**value.as_dict())


@strawberry.type(
    description=(
        "Who is billed: the details printed on invoices. Read from an account it is the "
        "current info; read from an invoice it is the copy taken when the invoice was issued."
    )
)
class BillingInfo:
    name: str | None = strawberry.field(
        description="The name invoices are addressed to; null when not given."
    )
    email: str | None = strawberry.field(
        description="Where invoices and receipts are emailed; null when not given."
    )
    address: Address | None = strawberry.field(
        description="The billing address; null when no part of it was given."
    )
    tax_id: str | None = strawberry.field(
        description="The customer's tax ID (e.g. a VAT number) as printed; null when not given."
    )

    @classmethod
    def from_value(cls, value: BillingInfoValue) -> BillingInfo:
        return cls(
            name=value.name,
            email=value.email,
            address=Address.from_value(value.address),
            tax_id=value.tax_id,
        )


@strawberry.type(
    description=(
        "A step only the customer's browser can take, usually 3-D Secure: hand "
        "`clientSecret` to Stripe.js (or send the customer to `redirectUrl`), then call the "
        "matching confirm mutation."
    )
)
class NextAction:
    type: str = strawberry.field(
        description=(
            "What to do, as the provider names it: `use_stripe_sdk` (run Stripe.js with "
            "`clientSecret`) or `redirect_to_url` (open `redirectUrl`)."
        )
    )
    redirect_url: str | None = strawberry.field(
        description="Where to send the customer when `type` is `redirect_to_url`; else null."
    )
    client_secret: str | None = strawberry.field(
        description=(
            "The secret Stripe.js needs to finish the step in the browser; null for a redirect. "
            "Hand it only to the customer's own browser."
        )
    )

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
        """`first: 0` reads only `totalCount`: an empty page has no `endCursor` to go on
        from, so it never says `hasNextPage` (a client looping on it would not move)."""
        return cls(
            has_next_page=has_next_page and bool(cursors),
            has_previous_page=has_previous_page,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )
