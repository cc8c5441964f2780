"""The caller: its role and the accounts it may see."""

from __future__ import annotations

import strawberry

from schema.types.account import Account
from schema.types.common import PageInfo
from schema.types.enums import Role


@strawberry.type
class AccountEdge:
    cursor: str
    node: Account


@strawberry.type
class AccountConnection:
    edges: list[AccountEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[Account]:
        return [edge.node for edge in self.edges]


@strawberry.type
class Viewer:
    role: Role
    account_ids: strawberry.Private[frozenset[int]]

    @strawberry.field(description="The caller's account, when it sees exactly one.")
    async def account(self, info: strawberry.Info) -> Account | None:
        from resolvers.accounts import viewer_account

        return await viewer_account(info, self.account_ids)

    @strawberry.field
    async def accounts(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None
    ) -> AccountConnection:
        from resolvers.accounts import viewer_accounts

        return await viewer_accounts(info, self.account_ids, first=first, after=after)


@strawberry.type(description="What the browser needs to tokenize a card with the provider's JS.")
class PaymentProviderConfig:
    name: str
    publishable_key: str
    js_url: str
