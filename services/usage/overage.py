"""The overage switch and its cap.

Opt-in, off by default. Turning it on needs a self-service paid plan (Free:
OverageNotAvailable; Enterprise: SelfServiceUnavailable) and a usable card
(PaymentMethodRequired); viewers get PermissionDenied. A cap below the overage already
accrued this period is InvalidInput. Turning it off keeps what accrued billable.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import (
    Account,
    OverageSetting,
    PlanTier,
    Subscription,
)
from services.auth import Principal
from services.context import ServiceContext
from services.errors import (
    InvalidInput,
    OverageNotAvailable,
    PaymentMethodRequired,
    PermissionDenied,
    SelfServiceUnavailable,
)
from services.payment_methods import usable_cards
from services.usage.rating import UsageRating
from services.usage.reading import allowances_by_plan, overage_state, rate_subscription

MAX_CAP = 10**11  # minor units: a billion dollars is a typo


async def update_overage_settings(
    ctx: ServiceContext,
    principal: Principal,
    account: Account,
    *,
    enabled: bool,
    monthly_cap: int | None,
) -> UsageRating | None:
    """Apply the switch and cap; the account's usage rated under them (None without a plan)."""
    if not principal.can_write_to(account.id):
        raise PermissionDenied()
    if account.tier is PlanTier.ENTERPRISE:
        raise SelfServiceUnavailable()
    if monthly_cap is not None and not 0 <= monthly_cap <= MAX_CAP:
        raise InvalidInput("The cap is an amount in cents, 0 or more.", field="monthlyCap")
    now = ctx.clock.now()
    sub = await Subscription.get_or_none(account_id=account.id)
    allowances = [] if sub is None else (await allowances_by_plan([sub.plan_id]))[sub.plan_id]
    if enabled:
        if not overage_state(account.tier, allowances, None).available:
            raise OverageNotAvailable()
        if not await usable_cards(account.id, now):
            raise PaymentMethodRequired("Add a card before turning overage on.")
    async with in_transaction():
        # Lock the setting row so a concurrent batch's accrual and this check see one order.
        await OverageSetting.bulk_create(
            [OverageSetting(account_id=account.id, enabled=False, updated_at=now)],
            ignore_conflicts=True,
        )
        setting = await OverageSetting.select_for_update().get(account_id=account.id)
        if sub is not None and monthly_cap is not None:
            accrued = await rate_subscription(
                account, sub, allowances=allowances, setting=setting, setting_loaded=True
            )
            if monthly_cap < accrued.overage_amount:
                raise InvalidInput(
                    "The cap is below the overage already accrued this period"
                    f" ({accrued.overage_amount} cents).",
                    field="monthlyCap",
                )
        setting.enabled = enabled
        setting.monthly_cap = monthly_cap
        setting.updated_at = now
        await setting.save(update_fields=["enabled", "monthly_cap", "updated_at"])
    if sub is None:
        return None
    return await rate_subscription(
        account, sub, allowances=allowances, setting=setting, setting_loaded=True
    )
