"""Plans and the subscription that puts an account on one."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import Plan as PlanModel
from models import Subscription as SubscriptionModel
from resolvers import usage_fields as usage_resolvers
from resolvers.context import Info
from resolvers.ids import from_global_id, to_global_id
from schema.types.common import Money, Node
from schema.types.enums import BillingInterval, PlanTier, SubscriptionStatus
from schema.types.plan_change_enums import CancellationReason
from schema.types.usage import PlanAllowance
from services import subscriptions


@strawberry.type(description="A plan in the catalogue: what a subscription bills, and how often.")
class Plan(Node):
    code: str = strawberry.field(
        description="A stable machine name for the plan, e.g. `plus-monthly`."
    )
    name: str = strawberry.field(description="The plan's name as shown to customers.")
    tier: PlanTier = strawberry.field(description="The tier an account on this plan gets.")
    price: Money = strawberry.field(
        description="The price of one billing interval, before tax, in minor units."
    )
    interval: BillingInterval = strawberry.field(description="How often the plan bills.")

    @classmethod
    def from_model(cls, plan: PlanModel) -> Plan:
        return cls(
            id=strawberry.ID(to_global_id("Plan", plan.id)),
            code=plan.code,
            name=plan.name,
            tier=plan.tier,
            price=Money.of(plan.price_amount, plan.currency),
            interval=plan.interval,
        )

    @strawberry.field(
        description=(
            "What the plan includes of each meter per billing period, and the price of usage "
            "past it where the plan offers overage."
        )
    )
    async def allowances(self, info: Info) -> list[PlanAllowance]:
        _, pk = from_global_id(self.id)
        return await usage_resolvers.plan_allowances(info, pk, self.price.currency)


@strawberry.type(
    description=(
        "What puts an account on a plan: the current billing period, the next bill and "
        "whether paid features are on."
    )
)
class Subscription(Node):
    model: strawberry.Private[SubscriptionModel]
    status: SubscriptionStatus = strawberry.field(
        description="Where the subscription stands; PAST_DUE while a failed renewal is retried."
    )
    current_period_start: datetime = strawberry.field(
        description="Start of the billing period now running (UTC, ISO 8601)."
    )
    current_period_end: datetime = strawberry.field(
        description="End of the billing period now running (UTC, ISO 8601)."
    )
    cancel_at_period_end: bool = strawberry.field(
        description=(
            "True once the customer canceled: paid features stay on until "
            "`currentPeriodEnd`, then the account moves to the Free plan with no further "
            "bill. `resumeSubscription` undoes it before then."
        )
    )
    cancellation_reason: CancellationReason | None = strawberry.field(  # type: ignore[valid-type]
        description="The reason given when canceling; null unless `cancelAtPeriodEnd`."
    )
    paid_features_enabled: bool = strawberry.field(
        description=(
            "True while the plan's paid features are on (ACTIVE or TRIALING); false from the "
            "first failed renewal until a payment succeeds."
        )
    )

    @classmethod
    def from_model(cls, sub: SubscriptionModel) -> Subscription:
        return cls(
            id=strawberry.ID(to_global_id("Subscription", sub.id)),
            model=sub,
            status=sub.status,
            current_period_start=sub.current_period_start,
            current_period_end=sub.current_period_end,
            cancel_at_period_end=sub.cancel_at_period_end,
            cancellation_reason=sub.cancellation_reason if sub.cancel_at_period_end else None,
            paid_features_enabled=subscriptions.paid_features_enabled(sub),
        )

    async def _plan(self, info: Info) -> PlanModel:
        plan = await info.context.loaders.plan_by_id.load(self.model.plan_id)
        assert plan is not None
        return plan

    async def _pending(self, info: Info) -> PlanModel | None:
        if self.model.pending_plan_id is None:
            return None
        return await info.context.loaders.plan_by_id.load(self.model.pending_plan_id)

    @strawberry.field(
        description=(
            "When the next invoice is issued and charged to the default card; null once the "
            "subscription is CANCELED or UNPAID, or when it ends or moves to the Free plan at "
            "the period end (nothing more will be billed)."
        )
    )
    async def next_billing_date(self, info: Info) -> datetime | None:
        return subscriptions.next_billing_date(self.model, await self._pending(info))

    @strawberry.field(
        description=(
            "A downgrade scheduled for the period end (see `changePlan`); null when none. "
            "`cancelPendingPlanChange` drops it."
        )
    )
    async def pending_change(self, info: Info) -> PendingPlanChange | None:
        plan = await self._pending(info)
        if plan is None:
            return None
        return PendingPlanChange(
            plan=Plan.from_model(plan), effective_at=self.model.current_period_end
        )

    @strawberry.field(description="The plan the account is subscribed to.")
    async def plan(self, info: Info) -> Plan:
        return Plan.from_model(await self._plan(info))

    @strawberry.field(
        description=(
            "What the next invoice will charge, before tax, in minor units; null when "
            "`nextBillingDate` is null."
        )
    )
    async def next_billing_amount(self, info: Info) -> Money | None:
        amount = subscriptions.next_billing_amount(
            self.model, await self._plan(info), await self._pending(info)
        )
        return None if amount is None else Money.from_value(amount)


@strawberry.type(description="A downgrade scheduled for the end of the current period.")
class PendingPlanChange:
    plan: Plan = strawberry.field(description="The plan the subscription moves to.")
    effective_at: datetime = strawberry.field(
        description="When it moves: the end of the current period (`currentPeriodEnd`)."
    )
