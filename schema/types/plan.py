"""Plans and the subscription that puts an account on one."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import Plan as PlanModel
from models import Subscription as SubscriptionModel
from resolvers.context import Info
from resolvers.ids import to_global_id
from schema.types.common import Money, Node
from schema.types.enums import BillingInterval, PlanTier, SubscriptionStatus
from services import subscriptions


@strawberry.type
class Plan(Node):
    code: str
    name: str
    tier: PlanTier
    price: Money
    interval: BillingInterval

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


@strawberry.type
class Subscription(Node):
    model: strawberry.Private[SubscriptionModel]
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime
    next_billing_date: datetime | None
    paid_features_enabled: bool

    @classmethod
    def from_model(cls, sub: SubscriptionModel) -> Subscription:
        return cls(
            id=strawberry.ID(to_global_id("Subscription", sub.id)),
            model=sub,
            status=sub.status,
            current_period_start=sub.current_period_start,
            current_period_end=sub.current_period_end,
            next_billing_date=subscriptions.next_billing_date(sub),
            paid_features_enabled=subscriptions.paid_features_enabled(sub),
        )

    async def _plan(self, info: Info) -> PlanModel:
        plan = await info.context.loaders.plan_by_id.load(self.model.plan_id)
        assert plan is not None
        return plan

    @strawberry.field
    async def plan(self, info: Info) -> Plan:
        return Plan.from_model(await self._plan(info))

    @strawberry.field
    async def next_billing_amount(self, info: Info) -> Money | None:
        amount = subscriptions.next_billing_amount(self.model, await self._plan(info))
        return None if amount is None else Money.from_value(amount)
