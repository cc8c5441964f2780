"""Usage test data: the credits meter on a plan, a subscribed account, a service caller."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from models import (
    Account,
    ApiKeyRole,
    Meter,
    PaymentMethod,
    PaymentMethodStatus,
    Plan,
    PlanAllowance,
    PlanTier,
    Subscription,
    UsageEvent,
    UsagePeriodTotal,
)
from services.auth import Principal
from services.context import ServiceContext
from services.usage import MICROS
from services.usage.ingest import EventIn, EventResult, report_usage
from tests.conftest import NOW
from tests.factories import make_account, make_plan, subscribe

SERVICE = Principal(role=ApiKeyRole.SERVICE, account_ids=frozenset(), caller="key:service")
#: By tier: (included credits, overage price in cents), as in the demo catalogue.
CATALOGUE = {
    PlanTier.FREE: (50, None),
    PlanTier.PLUS: (1_000, 4),
    PlanTier.ENTERPRISE: (100_000, None),
}


async def credits_meter() -> Meter:
    meter, _ = await Meter.get_or_create(
        code="credits", defaults={"name": "Credits", "unit": "credit"}
    )
    return meter


async def metered_account(
    email: str = "alice@example.test", *, tier: PlanTier = PlanTier.PLUS, card: bool = True
) -> tuple[Account, Subscription]:
    """An account on a plan of its tier with the credits allowance (Enterprise on its own
    plan: the factories put it on Plus)."""
    account = await make_account(email, tier=tier)
    sub = await subscribe(account)
    if tier is PlanTier.ENTERPRISE:
        plan = await make_plan(PlanTier.ENTERPRISE, price=250000)
        await Subscription.filter(id=sub.id).update(plan_id=plan.id)
        sub = await Subscription.get(id=sub.id)
    if tier is PlanTier.FREE:  # the factories' plans all cost $29
        await Plan.filter(id=sub.plan_id).update(price_amount=0)
    meter = await credits_meter()
    included, price = CATALOGUE[tier]
    await PlanAllowance.get_or_create(
        plan_id=sub.plan_id,
        meter=meter,
        defaults={"included_micros": included * MICROS, "overage_unit_amount": price},
    )
    if card:
        await PaymentMethod.create(
            account=account,
            provider_id=f"pm_usage_{account.id}",
            brand="visa",
            last4="4242",
            exp_month=12,
            exp_year=2040,
            status=PaymentMethodStatus.ACTIVE,
            is_default=True,
            created_at=NOW - timedelta(days=30),
        )
    return account, sub


def event(account: Account | int | None, id: str, quantity: Any = "1", **kw: Any) -> EventIn:
    account_id = account.id if isinstance(account, Account) else account
    return EventIn(
        account_id=account_id, id=id, meter=kw.pop("meter", "credits"), quantity=quantity, **kw
    )


async def report(services: ServiceContext, *events: EventIn) -> list[EventResult]:
    return await report_usage(services, SERVICE, list(events))


async def used(account: Account) -> Decimal:
    """The current total of the account's credits, from the totals table."""
    rows = await UsagePeriodTotal.filter(account_id=account.id)
    return Decimal(sum(r.quantity_micros for r in rows)) / MICROS


async def event_sum(account: Account) -> Decimal:
    rows = await UsageEvent.filter(account_id=account.id)
    return Decimal(sum(r.quantity_micros for r in rows)) / MICROS
