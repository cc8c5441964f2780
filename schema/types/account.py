"""An account and everything the billing page shows about it."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models import Account as AccountModel
from models import PlanTier as PlanTierModel
from resolvers import event_pages as event_resolvers
from resolvers import invoices as invoice_resolvers
from resolvers import usage_fields as usage_resolvers
from resolvers.context import Info
from resolvers.ids import to_global_id
from schema.types.common import BillingInfo, Money, Node, PageInfo
from schema.types.enums import InvoiceStatus, PlanTier
from schema.types.events import EVENT_TYPES_ARG, BillingEventConnection, BillingEventType
from schema.types.invoice import InvoiceConnection
from schema.types.payment_method import PaymentMethod
from schema.types.plan import Subscription
from schema.types.usage import (
    NotificationConnection,
    OverageSettings,
    Usage,
    UsageNotificationSettings,
)
from services.billing_info import billing_info_of


@strawberry.type(
    description=(
        "A customer account: the plan it is on, its cards, billing details and billing "
        "history. An API key reads only the accounts it was issued for."
    )
)
class Account(Node):
    model: strawberry.Private[AccountModel]
    name: str = strawberry.field(description="The account's display name.")
    email: str = strawberry.field(
        description=(
            "The account's contact email. Billing emails go to `billingInfo.email` when set, "
            "else here."
        )
    )
    tier: PlanTier = strawberry.field(
        description="The account's tier. ENTERPRISE accounts are billed by the sales team."
    )
    self_service_enabled: bool = strawberry.field(
        description=(
            "False for ENTERPRISE accounts: every billing mutation then answers "
            "SELF_SERVICE_UNAVAILABLE, while reads keep working. Use it to hide billing actions."
        )
    )

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

    @strawberry.field(
        description="The account's subscription; null when the account has never subscribed."
    )
    async def subscription(self, info: Info) -> Subscription | None:
        sub = await info.context.loaders.subscription_by_account.load(self.model.id)
        return None if sub is None else Subscription.from_model(sub)

    @strawberry.field(
        description=(
            "The cards on file, including ones waiting for 3-D Secure (REQUIRES_ACTION) or "
            "expired; removed cards are not listed. Empty when there is none."
        )
    )
    async def payment_methods(self, info: Info) -> list[PaymentMethod]:
        rows = await info.context.loaders.payment_methods_by_account.load(self.model.id)
        return [PaymentMethod.from_model(pm) for pm in rows]

    @strawberry.field(
        description=(
            "The card charged for renewals and when `payInvoice` names no card; null when "
            "there is no card on file."
        )
    )
    async def default_payment_method(self, info: Info) -> PaymentMethod | None:
        rows = await info.context.loaders.payment_methods_by_account.load(self.model.id)
        default = next((pm for pm in rows if pm.is_default), None)
        return None if default is None else PaymentMethod.from_model(default)

    @strawberry.field(
        description=(
            "The name, email, address and tax ID printed on invoices. Changes apply to "
            "invoices issued from now on; issued invoices keep their own copy."
        )
    )
    def billing_info(self) -> BillingInfo:
        return BillingInfo.from_value(billing_info_of(self.model))

    @strawberry.field(
        description=(
            "The billing history, newest billing period first, paged with cursors. Drafts "
            "appear only when `status` asks for DRAFT. An invalid `first` or `after` answers "
            "an empty page plus an INVALID_INPUT error at this field's path; the rest of the "
            "response stands."
        )
    )
    async def invoices(
        self,
        info: Info,
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
        status: Annotated[
            list[InvoiceStatus] | None,
            strawberry.argument(
                description=(
                    "Only invoices in these states. Left out: OPEN, PAID, VOID and "
                    "UNCOLLECTIBLE (every issued invoice, no drafts)."
                )
            ),
        ] = None,
    ) -> InvoiceConnection:
        return await invoice_resolvers.invoice_connection(
            info, self.model.id, first=first, after=after, status=status
        )

    @strawberry.field(
        description=(
            "What the account owes now: the amount due on its OPEN invoices, in the "
            "account's currency. Zero when nothing is due."
        )
    )
    async def outstanding_balance(self, info: Info) -> Money:
        return await invoice_resolvers.outstanding_balance(info, self.model.id, self.model.currency)

    @strawberry.field(
        description=(
            "The account's billing events, oldest first (log order): every change to its "
            "cards, invoices, payments, subscription and billing info. Page with `after` "
            "(an event's `cursor`) to catch up or poll; the `billingEvents` subscription "
            "delivers the same events live."
        )
    )
    async def events(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, 0 to 100; 20 when left out.")
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="An event's `cursor`: the page starts right after that event."
            ),
        ] = None,
        types: Annotated[
            list[BillingEventType] | None,
            strawberry.argument(description=EVENT_TYPES_ARG),
        ] = None,
    ) -> BillingEventConnection:
        return await event_resolvers.event_connection(
            info, self.model.id, first=first, after=after, types=types
        )

    @strawberry.field(
        description=(
            "The cursor of the account's newest event: subscribe to `billingEvents` with "
            "`after` set to it right after reading the account, and every change made since "
            "that read arrives, none twice."
        )
    )
    async def events_cursor(self, info: Info) -> str:
        return await event_resolvers.events_cursor(info, self.model.id)

    @strawberry.field(
        description=(
            "Metered usage in the current billing period, from running totals (cheap to read); "
            "null without a subscription."
        )
    )
    async def usage(self, info: Info) -> Usage | None:
        return await usage_resolvers.account_usage(info, self.model)

    @strawberry.field(description="Whether usage past the allowance is billed, and the cap.")
    async def overage(self, info: Info) -> OverageSettings:
        return await usage_resolvers.account_overage(info, self.model)

    @strawberry.field(description="When the account is notified about its usage.")
    async def usage_notifications(self, info: Info) -> UsageNotificationSettings:
        return await usage_resolvers.account_usage_notifications(info, self.model)

    @strawberry.field(description="In-app notifications about usage, newest first.")
    async def notifications(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="How many to return (0-100, default 20).")
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="Return the ones after this cursor (`endCursor`)."),
        ] = None,
    ) -> NotificationConnection:
        return await usage_resolvers.account_notifications(info, self.model, first, after)


@strawberry.type(description="One account in a page of accounts, with its cursor.")
class AccountEdge:
    cursor: str = strawberry.field(
        description="An opaque position: pass it as `after` to read the accounts after this one."
    )
    node: Account = strawberry.field(description="The account.")


@strawberry.type(
    description=(
        "A page of the accounts an API key may read, in a stable order (a Relay connection)."
    )
)
class AccountConnection:
    edges: list[AccountEdge] = strawberry.field(
        description="The accounts on this page with their cursors; empty past the last one."
    )
    page_info: PageInfo = strawberry.field(
        description="Cursors and whether more pages exist, to read the next page."
    )
    total_count: int = strawberry.field(
        description="How many accounts the key may read, across all pages."
    )

    @strawberry.field(
        description="The accounts on this page without their cursors (the same order as `edges`)."
    )
    def nodes(self) -> list[Account]:
        return [edge.node for edge in self.edges]
