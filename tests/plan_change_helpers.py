"""Shared by the plan-change tests: the demo catalogue, and "nothing changed" snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models import (
    Account,
    BillingInterval,
    Invoice,
    InvoiceLine,
    OutboxMessage,
    Payment,
    PaymentMethod,
    Plan,
    PlanChangeQuote,
    PlanTier,
    Subscription,
)
from tests.factories import make_plan

_MODELS = (
    Account,
    Subscription,
    PaymentMethod,
    Invoice,
    InvoiceLine,
    Payment,
    PlanChangeQuote,
    OutboxMessage,
)


@dataclass(frozen=True)
class Catalogue:
    free: Plan
    plus: Plan  # plus-monthly, $29, the plan `subscribe` puts a PLUS account on
    plus_5k: Plan
    plus_yearly: Plan
    enterprise: Plan


async def catalogue() -> Catalogue:
    """The demo's plans (DESIGN.md), with the codes the factories use."""
    plus_5k, _ = await Plan.get_or_create(
        code="plus-5k",
        defaults={
            "name": "Plus 5K (monthly)",
            "tier": PlanTier.PLUS,
            "price_amount": 9900,
            "interval": BillingInterval.MONTH,
        },
    )
    yearly, _ = await Plan.get_or_create(
        code="plus-yearly",
        defaults={
            "name": "Plus (yearly)",
            "tier": PlanTier.PLUS,
            "price_amount": 29000,
            "interval": BillingInterval.YEAR,
        },
    )
    return Catalogue(
        free=await make_plan(PlanTier.FREE, price=0),
        plus=await make_plan(PlanTier.PLUS),
        plus_5k=plus_5k,
        plus_yearly=yearly,
        enterprise=await make_plan(PlanTier.ENTERPRISE, price=250000),
    )


async def all_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row a plan change could touch: equal before and after = nothing changed."""
    return {m.__name__: await m.all().order_by("id").values() for m in _MODELS}
