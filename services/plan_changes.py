"""Plan changes: preview with a quote, then change exactly as quoted.

`preview_plan_change` computes the change at this second (services/proration.py) and
stores it as a quote valid 15 minutes. `change_plan` takes that quote, once, for the
account and plan it names, and does what it says: a downgrade is scheduled for the
period end; an upgrade issues the quoted invoice and pays it through the same
claim → charge → record path as payInvoice (services/plan_change_billing.py), the
plan switching in the transaction that records the payment.

Refusals come before anything is written or charged, in a fixed order: found, role,
Enterprise (services/access.py), then the plan, then the quote, then the balance and
the card.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from models import (
    Account,
    PaymentMethod,
    Plan,
    PlanChangeQuote,
    PlanChangeTiming,
    PlanTier,
    Subscription,
    SubscriptionStatus,
)
from models.events import BillingEventType as EV
from services import notifications
from services import plan_change_billing as billing
from services.access import writable_account
from services.auth import Principal
from services.context import ServiceContext
from services.errors import (
    InvalidInput,
    NotFound,
    OutstandingBalance,
    PlanChangeNotAllowed,
    QuoteExpired,
)
from services.events import log as events
from services.money import Money
from services.plan_switch import CLEARED, day
from services.proration import PlanTerms, immediate_change, is_upgrade
from services.quotes import PlanChangeOutcome, claim_quote, still_matches
from services.renewals import add_interval
from services.usage.billing import rate_closing_period

QUOTE_TTL = timedelta(minutes=15)
#: A subscription in these states has a paid period running that an upgrade credits.
RUNNING = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE)
#: Upgrades wait until the balance is paid; downgrades and cancellation do not.
DELINQUENT = (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)


def terms(plan: Plan) -> PlanTerms:
    return PlanTerms(plan.name, plan.tier, plan.price_amount, plan.interval)


async def target_plan(plan_id: int) -> Plan:
    plan = await Plan.get_or_none(id=plan_id)
    if plan is None:
        raise NotFound(field="planId")
    if plan.tier is PlanTier.ENTERPRISE:
        raise PlanChangeNotAllowed(
            "The Enterprise plan is arranged with our sales team, not in the portal.",
            field="planId",
        )
    return plan


async def _current(account: Account) -> tuple[Subscription | None, Plan | None]:
    sub = await Subscription.get_or_none(account_id=account.id)
    plan = await Plan.get_or_none(id=sub.plan_id) if sub is not None else None
    return sub, plan


def _running(sub: Subscription | None, now: datetime) -> bool:
    return sub is not None and sub.status in RUNNING and sub.current_period_end > now


def _timing(sub: Subscription | None, current: Plan | None, target: Plan, now: datetime) -> str:
    if current is None or sub is None or sub.status is SubscriptionStatus.CANCELED:
        if target.price_amount == 0:
            raise InvalidInput("You are already on the Free plan.", field="planId")
        return PlanChangeTiming.IMMEDIATE
    if current.id == target.id:
        raise InvalidInput(
            "You are already on this plan"
            + ("; to keep it, cancel the scheduled change." if sub.pending_plan_id else "."),
            field="planId",
        )
    if not _running(sub, now) and current.price_amount == 0:
        return PlanChangeTiming.IMMEDIATE
    return (
        PlanChangeTiming.IMMEDIATE
        if is_upgrade(terms(current), terms(target))
        else (PlanChangeTiming.PERIOD_END)
    )


async def preview_plan_change(
    ctx: ServiceContext, principal: Principal, account_id: int | None, plan_id: int
) -> PlanChangeQuote:
    account = await writable_account(principal, account_id)
    target = await target_plan(plan_id)
    now = ctx.clock.now()
    sub, current = await _current(account)
    timing = _timing(sub, current, target, now)
    common: dict[str, Any] = {
        "token": f"qt_{secrets.token_urlsafe(24)}",
        "account_id": account.id,
        "subscription_id": sub.id if sub else None,
        "from_plan_id": current.id if current else None,
        "to_plan_id": target.id,
        "timing": timing,
        "current_period_end": sub.current_period_end if sub else None,
        "currency": target.currency,
        "created_at": now,
        "expires_at": now + QUOTE_TTL,
    }
    if timing is PlanChangeTiming.PERIOD_END:
        assert sub is not None
        end = sub.current_period_end
        return await PlanChangeQuote.create(
            **common, period_start=end, period_end=end, amount_due=0, lines=[]
        )
    if sub is not None and sub.status in DELINQUENT:
        raise OutstandingBalance(field="planId")
    # Whole seconds: the quote is what the invoice will say, to the cent and the second.
    at = now.replace(microsecond=0)
    running = _running(sub, at) and current is not None and current.price_amount > 0
    change = immediate_change(
        terms(current) if running and current else None,
        terms(target),
        period_start=sub.current_period_start if running and sub else None,
        period_end=sub.current_period_end if running and sub else None,
        at=at,
        new_period_end=add_interval(at, target.interval, at.day),
    )
    lines: list[dict[str, Any]] = [
        {"description": line.description, "quantity": line.quantity, "amount": line.amount}
        for line in change.lines
    ]
    if change.new_period and sub is not None:
        # The change ends the period today: its overage is billed now, under the current
        # plan, on this invoice (services/usage/billing.py); a read, nothing is closed yet.
        lines += [
            {
                "description": o.description,
                "quantity": 1,
                "amount": o.amount,
                "meter_id": o.meter_id,
            }
            for o in (await rate_closing_period(sub)).lines
        ]
    return await PlanChangeQuote.create(
        **common,
        period_start=change.period_start,
        period_end=change.period_end,
        new_period=change.new_period,
        amount_due=sum(line["amount"] for line in lines),
        lines=lines,
    )


def next_billing(quote: PlanChangeQuote, target: Plan) -> tuple[datetime | None, Money | None]:
    """When and how much the account is billed next once this change is made."""
    if target.price_amount == 0:
        return None, None
    return quote.period_end, Money(target.price_amount, target.currency)


def fingerprint(quote_id: str, plan_id: int, payment_method_id: int | None) -> str:
    raw = f"{quote_id}:{plan_id}:{payment_method_id or ''}"
    return hashlib.sha256(raw.encode()).hexdigest()


async def change_plan(
    ctx: ServiceContext,
    principal: Principal,
    account_id: int | None,
    plan_id: int,
    quote_id: str,
    *,
    payment_method_id: int | None = None,
    idempotency_key: str | None = None,
) -> PlanChangeOutcome:
    account = await writable_account(principal, account_id)
    if payment_method_id is not None and not await PaymentMethod.exists(
        id=payment_method_id, account_id=account.id, deleted_at=None
    ):
        raise NotFound(field="paymentMethodId")
    target = await target_plan(plan_id)
    quote_id = quote_id.strip()
    print_ = fingerprint(quote_id, plan_id, payment_method_id)
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not 1 <= len(idempotency_key) <= 128:
            raise InvalidInput(
                "idempotencyKey must be 1 to 128 characters.", field="idempotencyKey"
            )
        first = await PlanChangeQuote.get_or_none(
            account_id=account.id, client_idempotency_key=idempotency_key
        )
        if first is not None:
            return await billing.replay(ctx, first, print_)
    now = ctx.clock.now()
    sub, current = await _current(account)
    _timing(sub, current, target, now)  # the same plan (or Free again) is a bad request
    quote = await _usable_quote(account, quote_id, target, now)
    if quote.timing is PlanChangeTiming.PERIOD_END:
        return await _schedule(ctx, account, quote, target, idempotency_key, print_)
    if sub is not None and sub.status in DELINQUENT:
        raise OutstandingBalance(field="planId")
    return await billing.upgrade(
        ctx,
        account,
        quote,
        payment_method_id=payment_method_id,
        idempotency_key=idempotency_key,
        fingerprint=print_,
    )


async def _usable_quote(
    account: Account, quote_id: str, target: Plan, now: datetime
) -> PlanChangeQuote:
    """The quote, if it is this account's, for this plan, unused, unexpired, and the
    subscription is still where it was when quoted; QuoteExpired otherwise."""
    quote = (
        await PlanChangeQuote.get_or_none(token=quote_id, account_id=account.id)
        if quote_id.startswith("qt_") and len(quote_id) <= 64
        else None
    )
    if (
        quote is None
        or quote.to_plan_id != target.id
        or quote.used_at is not None
        or quote.expires_at <= now
        or not await still_matches(quote)
    ):
        raise QuoteExpired(field="quoteId")
    return quote


async def _schedule(
    ctx: ServiceContext,
    account: Account,
    quote: PlanChangeQuote,
    target: Plan,
    key: str | None,
    print_: str,
) -> PlanChangeOutcome:
    """A downgrade: nothing charged now; the renewal at the period end applies it."""
    now = ctx.clock.now()
    async with in_transaction():
        sub = await Subscription.select_for_update().get_or_none(account_id=account.id)
        if sub is None or not await claim_quote(quote, now, key, print_):
            return await billing.after_lost_claim(ctx, account, key, print_)
        if not await still_matches(quote):
            raise QuoteExpired(field="quoteId")
        await Subscription.filter(id=sub.id).update(**{**CLEARED, "pending_plan_id": target.id})
        await events.append(
            EV.SUBSCRIPTION_UPDATED, account_id=account.id, subscription_id=sub.id, now=now
        )
        await PlanChangeQuote.filter(id=quote.id).update(applied_at=now)
        current = await Plan.get(id=sub.plan_id)
        await notifications.enqueue(
            template="plan_changed",
            account=account,
            dedupe_key=f"plan-changed:quote:{quote.id}",
            context={
                "old_plan": current.name,
                "new_plan": target.name,
                "amount": None,
                "scheduled": True,
                "effective_date": day(sub.current_period_end),
                "next_billing_date": None,
                "next_amount": Money(target.price_amount, target.currency).format(),
                "portal_url": ctx.policy.portal_url,
            },
            now=now,
        )
    await sub.refresh_from_db()
    return PlanChangeOutcome(sub, None, None)


async def cancel_pending_plan_change(
    ctx: ServiceContext, principal: Principal, account_id: int | None
) -> Subscription:
    """Keep the current plan after all: drop the scheduled downgrade (if any)."""
    account = await writable_account(principal, account_id)
    sub = await Subscription.get_or_none(account_id=account.id)
    if sub is None:
        raise NotFound("This account has no subscription.", field="accountId")
    now = ctx.clock.now()
    async with in_transaction():
        pending = await Plan.get_or_none(id=sub.pending_plan_id) if sub.pending_plan_id else None
        if pending is not None and await Subscription.filter(
            id=sub.id, pending_plan_id=pending.id
        ).update(pending_plan_id=None):
            await events.append(
                EV.SUBSCRIPTION_UPDATED, account_id=account.id, subscription_id=sub.id, now=now
            )
            current = await Plan.get(id=sub.plan_id)
            await notifications.enqueue(
                template="plan_change_canceled",
                account=account,
                dedupe_key=f"plan-change-canceled:{sub.id}:{now.isoformat()}",
                context={
                    "plan": current.name,
                    "dropped_plan": pending.name,
                    "renewal_date": day(sub.current_period_end),
                    "portal_url": ctx.policy.portal_url,
                },
                now=now,
            )
    await sub.refresh_from_db()
    return sub
