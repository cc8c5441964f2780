"""The root Query: each field is one call into resolvers/."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import accounts, usage_fields
from resolvers.context import Info
from schema.types.account import Account
from schema.types.common import Node
from schema.types.plan import Plan
from schema.types.usage import Usage
from schema.types.viewer import PaymentProviderConfig, Viewer


@strawberry.type(
    description=(
        "Everything a client can read. Send an API key or token as `Authorization: Bearer "
        "<key>`; without one only `plans` and `paymentProvider` answer."
    )
)
class Query:
    @strawberry.field(
        description=(
            "Who is calling: the key's role and the accounts it may read. Without a valid key "
            "the request fails with a top-level error whose code is UNAUTHENTICATED."
        )
    )
    def viewer(self, info: Info) -> Viewer:
        return accounts.viewer(info)

    @strawberry.field(
        description=(
            "An account by its global ID; null when it does not exist or this key may not read "
            "it (the two are not told apart)."
        )
    )
    async def account(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The `Account.id`.")],
    ) -> Account | None:
        return await accounts.account(info, id)

    @strawberry.field(
        description=(
            "Any object by its global ID (Relay's refetch): an account, invoice, payment, "
            "card, subscription or plan. Null when it does not exist or this key may not read "
            "it."
        )
    )
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The object's global `id`.")],
    ) -> Node | None:
        return await accounts.resolve_node(info, id)

    @strawberry.field(
        description=(
            "An account's usage this billing period, read from running totals. A SERVICE key "
            "(the product's backend) may read any account's, e.g. `allowed` to block usage; "
            "other keys their own accounts'. Null when the account does not exist, may not be "
            "read, or has no subscription."
        )
    )
    async def usage(
        self,
        info: Info,
        account_id: Annotated[strawberry.ID, strawberry.argument(description="The `Account.id`.")],
    ) -> Usage | None:
        return await usage_fields.usage_of_account(info, account_id)

    @strawberry.field(description="The plan catalogue, cheapest first.")
    async def plans(self, info: Info) -> list[Plan]:
        return await accounts.plans(info)

    @strawberry.field(
        description=(
            "What the browser needs to load the payment provider's JS and collect a card with "
            "it, before `startPaymentMethodSetup` or `addPaymentMethod`."
        )
    )
    def payment_provider(self, info: Info) -> PaymentProviderConfig:
        return accounts.payment_provider(info)
