"""An account and everything the billing page shows about it."""

from __future__ import annotations

import strawberry

from models import Account as AccountModel
from models import PlanTier as PlanTierModel
from resolvers import invoices as invoice_resolvers
from resolvers.context import Info
from resolvers.ids import to_global_id
from schema.types.common import BillingInfo, Money, Node, PageInfo
from schema.types.enums import InvoiceStatus, PlanTier
from schema.types.invoice import InvoiceConnection
from schema.types.payment_method import PaymentMethod
from schema.types.plan import Subscription
from services.billing_info import billing_info_of


@strawberry.type
class Account(Node):
    model: strawberry.Private[AccountModel]
    name: str
    email: str
    tier: PlanTier
    self_service_enabled: bool

    @classmethod
    def from_model(cls, account: AccountModel) -> Account:
        return cls(
            id=strawberry.ID(to_global_id("Account", account.id)),
            model=account,
            name=account.name,
            email=account.email,
            tier=account.tier,
            self_service_enabled=account.tier is not PlanTierModel.ENTERPRISE,
        )

    @strawberry.field
    async def subscription(self, info: Info) -> Subscription | None:
        sub = await info.context.loaders.subscription_by_account.load(self.model.id)
        return None if sub is None else Subscription.from_model(sub)

    @strawberry.field
    async def payment_methods(self, info: Info) -> list[PaymentMethod]:
        rows = await info.context.loaders.payment_methods_by_account.load(self.model.id)
        return [PaymentMethod.from_model(pm) for pm in rows]

    @strawberry.field
    async def default_payment_method(self, info: Info) -> PaymentMethod | None:
        rows = await info.context.loaders.payment_methods_by_account.load(self.model.id)
        default = next((pm for pm in rows if pm.is_default), None)
        return None if default is None else PaymentMethod.from_model(default)

    @strawberry.field(description="Current billing info; applies to invoices issued from now on.")
    def billing_info(self) -> BillingInfo:
        return BillingInfo.from_value(billing_info_of(self.model))

    @strawberry.field(description="Billing history, newest period first. Drafts only on request.")
    async def invoices(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        status: list[InvoiceStatus] | None = None,
    ) -> InvoiceConnection:
        return await invoice_resolvers.invoice_connection(
            info, self.model.id, first=first, after=after, status=status
        )

    @strawberry.field(description="Sum due on open invoices.")
    async def outstanding_balance(self, info: Info) -> Money:
        return await invoice_resolvers.outstanding_balance(info, self.model.id, self.model.currency)


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
