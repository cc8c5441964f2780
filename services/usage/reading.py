"""Reading usage: from the per-period totals, never from the events.

A read costs the same few statements whether a period holds ten events or ten million:
the subscription, the plan's allowances, the period's totals and the overage setting.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from models import (
    Account,
    Notification,
    OverageSetting,
    PlanAllowance,
    Subscription,
    UsageNotificationSetting,
    UsagePeriodTotal,
)
from models.enums import PlanTier
from services.errors import InvalidInput
from services.usage.rating import (
    Allowance,
    OverageState,
    UsageRating,
    overage_available,
    rate,
)

DEFAULT_THRESHOLDS = (80, 90, 100)
MAX_NOTIFICATIONS_PAGE = 100


async def allowances_by_plan(plan_ids: Iterable[int]) -> dict[int, list[Allowance]]:
    """Each plan's allowances, meters included, in one query."""
    found: dict[int, list[Allowance]] = defaultdict(list)
    ids = sorted(set(plan_ids))
    if not ids:
        return found
    for row in await PlanAllowance.filter(plan_id__in=ids).select_related("meter"):
        found[row.plan_id].append(
            Allowance(
                meter_id=row.meter_id,
                meter_code=row.meter.code,
                meter_name=row.meter.name,
                meter_unit=row.meter.unit,
                included_micros=row.included_micros,
                overage_unit_amount=row.overage_unit_amount,
            )
        )
    return found


def overage_state(
    tier: PlanTier, allowances: list[Allowance], setting: OverageSetting | None
) -> OverageState:
    available = overage_available(tier, allowances)
    return OverageState(
        available=available,
        enabled=setting is not None and setting.enabled,
        cap=None if setting is None else setting.monthly_cap,
    )


async def overage_settings(account_ids: Iterable[int]) -> dict[int, OverageSetting]:
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    return {s.account_id: s for s in await OverageSetting.filter(account_id__in=ids)}


async def rate_subscription(
    account: Account,
    sub: Subscription,
    *,
    allowances: list[Allowance] | None = None,
    setting: OverageSetting | None = None,
    setting_loaded: bool = False,
) -> UsageRating:
    """The subscription's current period, rated from its totals."""
    if allowances is None:
        allowances = (await allowances_by_plan([sub.plan_id])).get(sub.plan_id, [])
    if not setting_loaded:
        setting = await OverageSetting.get_or_none(account_id=account.id)
    totals = {
        t.meter_id: (t.quantity_micros, t.overage_micros)
        for t in await UsagePeriodTotal.filter(
            account_id=account.id, period_start=sub.current_period_start
        )
    }
    return rate(
        period_start=sub.current_period_start,
        period_end=sub.current_period_end,
        currency=account.currency,
        allowances=allowances,
        totals=totals,
        overage=overage_state(account.tier, allowances, setting),
    )


async def usage_of(account: Account) -> UsageRating | None:
    """The account's usage this period; None without a subscription."""
    sub = await Subscription.get_or_none(account_id=account.id)
    if sub is None:
        return None
    return await rate_subscription(account, sub)


async def notification_settings(account_id: int) -> tuple[list[int], bool]:
    """(thresholds, email): the defaults until the customer changes them."""
    row = await UsageNotificationSetting.get_or_none(account_id=account_id)
    if row is None:
        return list(DEFAULT_THRESHOLDS), True
    return [int(t) for t in row.thresholds], row.email


async def list_notifications(
    account_id: int, *, first: int | None, after: int | None
) -> tuple[list[Notification], bool, int]:
    """Newest first, keyset by id: (page, has next page, total count)."""
    size = 20 if first is None else first
    if not 0 <= size <= MAX_NOTIFICATIONS_PAGE:
        raise InvalidInput(f"first must be between 0 and {MAX_NOTIFICATIONS_PAGE}.", field="first")
    query = Notification.filter(account_id=account_id)
    total = await query.count()
    if after is not None:
        query = query.filter(id__lt=after)
    rows = await query.order_by("-id").limit(size + 1).select_related("meter")
    return rows[:size], len(rows) > size, total


async def usage_by_accounts(ids: Sequence[int]) -> list[UsageRating | None]:
    """Many accounts' current usage in five statements, whatever their number or events:
    accounts, subscriptions, allowances, settings, and the totals of their periods."""
    account_ids = list(ids)
    accounts = {a.id: a for a in await Account.filter(id__in=account_ids)}
    subs = {s.account_id: s for s in await Subscription.filter(account_id__in=account_ids)}
    if not subs:
        return [None for _ in account_ids]
    allowances = await allowances_by_plan(s.plan_id for s in subs.values())
    settings = await overage_settings(subs)
    starts = {s.current_period_start for s in subs.values()}
    totals: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    for t in await UsagePeriodTotal.filter(account_id__in=list(subs), period_start__in=starts):
        if t.period_start == subs[t.account_id].current_period_start:
            totals[t.account_id][t.meter_id] = (t.quantity_micros, t.overage_micros)
    out: list[UsageRating | None] = []
    for account_id in account_ids:
        sub, account = subs.get(account_id), accounts.get(account_id)
        if sub is None or account is None:
            out.append(None)
            continue
        plan_allowances = allowances.get(sub.plan_id, [])
        out.append(
            rate(
                period_start=sub.current_period_start,
                period_end=sub.current_period_end,
                currency=account.currency,
                allowances=plan_allowances,
                totals=totals.get(account_id, {}),
                overage=overage_state(account.tier, plan_allowances, settings.get(account_id)),
            )
        )
    return out
