"""The root Query: each field is one call into resolvers/."""

from __future__ import annotations

import strawberry

from resolvers import accounts
from resolvers.context import Info
from schema.types.account import Account
from schema.types.common import Node
from schema.types.plan import Plan
from schema.types.viewer import PaymentProviderConfig, Viewer


@strawberry.type
class Query:
    @strawberry.field(description="The caller (needs an API key).")
    def viewer(self, info: Info) -> Viewer:
        return accounts.viewer(info)

    @strawberry.field(description="An account the caller may see, else null.")
    async def account(self, info: Info, id: strawberry.ID) -> Account | None:
        return await accounts.account(info, id)

    @strawberry.field(description="Any object by global ID, else null.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await accounts.resolve_node(info, id)

    @strawberry.field
    async def plans(self, info: Info) -> list[Plan]:
        return await accounts.plans(info)

    @strawberry.field
    def payment_provider(self, info: Info) -> PaymentProviderConfig:
        return accounts.payment_provider(info)
