"""The caller: its role and the accounts it may see."""

from __future__ import annotations

import strawberry

from resolvers import viewer as viewer_resolvers
from schema.types.account import Account, AccountConnection
from schema.types.enums import Role


@strawberry.type
class Viewer:
    role: Role
    account_ids: strawberry.Private[frozenset[int]]

    @strawberry.field(description="The caller's account, when it sees exactly one.")
    async def account(self, info: strawberry.Info) -> Account | None:
        return await viewer_resolvers.viewer_account(info, self.account_ids)

    @strawberry.field
    async def accounts(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None
    ) -> AccountConnection:
        return await viewer_resolvers.viewer_accounts(
            info, self.account_ids, first=first, after=after
        )


@strawberry.type(description="What the browser needs to tokenize a card with the provider's JS.")
class PaymentProviderConfig:
    name: str
    publishable_key: str
    js_url: str
