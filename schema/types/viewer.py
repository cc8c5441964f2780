"""The caller: its role and the accounts it may see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import viewer as viewer_resolvers
from resolvers import webhooks as webhook_resolvers
from schema.types.account import Account, AccountConnection
from schema.types.enums import Role


@strawberry.type(
    description=(
        "Whoever is calling, as identified by the API key or token: its role and the "
        "accounts it may read."
    )
)
class Viewer:
    role: Role = strawberry.field(
        description="What the caller may do: change billing (ADMIN), read (VIEWER), and so on."
    )
    account_ids: strawberry.Private[frozenset[int]]

    @strawberry.field(
        description=(
            "The caller's own account when the key is for exactly one account (a customer's "
            "key); null for a key over several accounts, such as a partner key."
        )
    )
    async def account(self, info: strawberry.Info) -> Account | None:
        return await viewer_resolvers.viewer_account(info, self.account_ids)

    @strawberry.field(
        description=(
            "Every account the caller may read, paged with cursors in a stable order. An "
            "invalid `first` or `after` answers an empty page plus an INVALID_INPUT error at "
            "this field's path; the rest of the response stands."
        )
    )
    async def accounts(
        self,
        info: strawberry.Info,
        first: Annotated[
            int | None,
            strawberry.argument(
                description="Page size, 0 to 100; 20 when left out; 0 reads only `totalCount`."
            ),
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The `endCursor` of the previous page; leave out for the first page."
            ),
        ] = None,
    ) -> AccountConnection:
        return await viewer_resolvers.viewer_accounts(
            info, self.account_ids, first=first, after=after
        )

    @strawberry.field(
        description=(
            "The webhook endpoints this key manages (admin: its account's; partner: its own); "
            "a viewer key reads its account's. Secrets are never shown here."
        )
    )
    async def webhook_endpoints(
        self, info: strawberry.Info
    ) -> list[Annotated[WebhookEndpoint, strawberry.lazy("schema.types.events")]]:
        return await webhook_resolvers.viewer_endpoints(info)


@strawberry.type(
    description=(
        "What a browser needs to collect a card with the payment provider's JavaScript, so "
        "card numbers never reach this API."
    )
)
class PaymentProviderConfig:
    name: str = strawberry.field(description="The payment provider, e.g. `stripe`.")
    publishable_key: str = strawberry.field(
        description="The provider's publishable key (safe in a browser) to initialise its JS with."
    )
    js_url: str = strawberry.field(
        description="Where to load the provider's JS from (Stripe.js, or the sandbox's stand-in)."
    )


if TYPE_CHECKING:
    from schema.types.events import WebhookEndpoint
