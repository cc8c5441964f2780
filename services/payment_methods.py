"""Cards on file: which one is the default, and which ones may be deleted.

Card mutations of one account run under a row lock on the account (SELECT ... FOR
UPDATE on PostgreSQL; SQLite serialises writers anyway), so a storm of makeDefault
and delete calls always leaves exactly one default and a paid plan never without a card.
No provider call happens while that lock is held.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from models import (
    Account,
    PaymentMethod,
    PaymentMethodStatus,
    PlanTier,
    Subscription,
    SubscriptionStatus,
)
from models.events import BillingEventType as EV
from services.access import check_billing_change, scoped_payment_method
from services.auth import Principal
from services.context import ServiceContext
from services.errors import DefaultPaymentMethodRequired, NotFound, PaymentMethodNotUsable
from services.events import log as events
from services.provider.base import ProviderError, ProviderUnavailableError

log = logging.getLogger(__name__)

#: Subscription states in which the plan still bills and so needs a card.
BILLING_STATES = (
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.UNPAID,
)


def is_expired(exp_month: int, exp_year: int, now: datetime) -> bool:
    """A card is good through the last day of its expiry month."""
    return (exp_year, exp_month) < (now.year, now.month)


def effective_status(pm: PaymentMethod, now: datetime) -> PaymentMethodStatus:
    """Stored status, except that an ACTIVE card past its expiry month reads EXPIRED."""
    if pm.status is PaymentMethodStatus.ACTIVE and is_expired(pm.exp_month, pm.exp_year, now):
        return PaymentMethodStatus.EXPIRED
    return pm.status


def not_usable(pm: PaymentMethod, now: datetime, *, field: str) -> PaymentMethodNotUsable:
    """The refusal for a card that cannot pay, saying why (expired, unverified, removed)."""
    status = effective_status(pm, now)
    message = None
    if status is PaymentMethodStatus.EXPIRED:
        message = (
            f"This card expired at the end of {pm.exp_month:02d}/{pm.exp_year}; "
            "add a new card or choose another one."
        )
    return PaymentMethodNotUsable(message, field=field, status=status.value)


def is_usable(pm: PaymentMethod, now: datetime) -> bool:
    return effective_status(pm, now) is PaymentMethodStatus.ACTIVE


async def lock_account(account_id: int) -> Account:
    """Inside a transaction: lock the account row that guards its cards."""
    return await Account.select_for_update().get(id=account_id)


async def set_default(account_id: int, pm_id: int, now: datetime | None = None) -> None:
    """Inside the account lock: make `pm_id` the one default (clear first: the index guards).
    A change of default is announced once; re-making the default changes nothing."""
    await (
        PaymentMethod.filter(account_id=account_id, is_default=True)
        .exclude(id=pm_id)
        .update(is_default=False)
    )
    became = await PaymentMethod.filter(id=pm_id, is_default=False).update(
        is_default=True, make_default_on_confirm=False
    )
    if not became:
        await PaymentMethod.filter(id=pm_id).update(make_default_on_confirm=False)
        return
    await events.append(
        EV.DEFAULT_PAYMENT_METHOD_CHANGED,
        account_id=account_id,
        payment_method_id=pm_id,
        now=now or datetime.now(UTC),
    )


async def has_billing_plan(account_id: int) -> bool:
    """True while a paid plan bills this account, so a card must stay on file."""
    sub = await Subscription.filter(account_id=account_id).select_related("plan").first()
    return bool(
        sub is not None and sub.status in BILLING_STATES and sub.plan.tier is not PlanTier.FREE
    )


async def make_default(ctx: ServiceContext, principal: Principal, pm_id: int) -> Account:
    pm = await scoped_payment_method(principal, pm_id)
    account = await Account.get(id=pm.account_id)
    check_billing_change(principal, account)
    now = ctx.clock.now()
    if not is_usable(pm, now):
        raise not_usable(pm, now, field="paymentMethodId")
    async with in_transaction():
        account = await lock_account(account.id)
        current = await PaymentMethod.get_or_none(id=pm.id)
        if current is None or current.status is PaymentMethodStatus.DELETED:
            raise NotFound(field="paymentMethodId")
        if not is_usable(current, now):  # changed since the first read
            raise not_usable(current, now, field="paymentMethodId")
        await set_default(account.id, pm.id, now)
    return account


async def usable_default(account_id: int, now: datetime) -> PaymentMethod | None:
    """The default card, kept able to pay: once it expired, the newest usable card takes
    over (as when the default is deleted), so a charge never fails on an expired default
    while a good card is on file. The unusable default when no card can pay; None
    without a default."""
    default = await PaymentMethod.get_or_none(account_id=account_id, is_default=True)
    if default is not None and is_usable(default, now):
        return default
    if not await usable_cards(account_id, now):
        return default
    async with in_transaction():
        await lock_account(account_id)
        # Read again under the lock: a concurrent makeDefault or delete may have moved it.
        current = await PaymentMethod.get_or_none(account_id=account_id, is_default=True)
        if current is not None and is_usable(current, now):
            return current
        others = await usable_cards(account_id, now)
        if not others:
            return current
        await set_default(account_id, others[0].id, now)
    return await PaymentMethod.get(id=others[0].id)


async def delete_payment_method(
    ctx: ServiceContext, principal: Principal, pm_id: int
) -> tuple[int, Account]:
    """Soft-delete a card under the tier rules, then detach it at the provider."""
    pm = await scoped_payment_method(principal, pm_id)
    account = await Account.get(id=pm.account_id)
    check_billing_change(principal, account)
    now = ctx.clock.now()
    async with in_transaction():
        account = await lock_account(account.id)
        pm_locked = (
            await PaymentMethod.filter(id=pm.id).exclude(status=PaymentMethodStatus.DELETED).first()
        )
        if pm_locked is None:
            raise NotFound(field="paymentMethodId")
        pm = pm_locked
        others = await usable_cards(account.id, now, excluding=pm.id)
        if pm.is_default and account.tier is not PlanTier.FREE:
            if not others:
                raise DefaultPaymentMethodRequired(
                    "Your plan needs a usable card on file and this is your default: "
                    "add another card first, then delete this one.",
                    field="paymentMethodId",
                )
            if is_usable(pm, now):
                raise DefaultPaymentMethodRequired(
                    "The default card cannot be deleted; make another card the default first.",
                    field="paymentMethodId",
                )
            # An expired default may go: the newest usable card takes over (remove_card).
        if is_usable(pm, now) and not others and await has_billing_plan(account.id):
            raise DefaultPaymentMethodRequired(
                "Your paid plan needs at least one card on file; add another card first.",
                field="paymentMethodId",
            )
        await remove_card(pm, now)
    await detach_quietly(ctx, pm.provider_id)
    return pm.id, account


async def usable_cards(
    account_id: int, now: datetime, *, excluding: int | None = None
) -> list[PaymentMethod]:
    """The account's cards that can be charged today, newest first."""
    query = PaymentMethod.filter(account_id=account_id, status=PaymentMethodStatus.ACTIVE)
    if excluding is not None:
        query = query.exclude(id=excluding)
    return [pm for pm in await query.order_by("-created_at", "-id") if is_usable(pm, now)]


async def remove_card(pm: PaymentMethod, now: datetime) -> None:
    """Inside the account lock: soft-delete a card (as read under the lock); when it
    was the default, the newest usable card takes over, so the account keeps one."""
    await PaymentMethod.filter(id=pm.id).update(
        status=PaymentMethodStatus.DELETED, is_default=False, deleted_at=now
    )
    await events.append(
        EV.PAYMENT_METHOD_REMOVED, account_id=pm.account_id, payment_method_id=pm.id, now=now
    )
    if pm.is_default:
        others = await usable_cards(pm.account_id, now, excluding=pm.id)
        if others:
            await set_default(pm.account_id, others[0].id, now)


async def detach_quietly(ctx: ServiceContext, provider_pm_id: str) -> None:
    """The card is already gone for us; a failed detach only leaves it vaulted, unused."""
    try:
        await ctx.provider.detach_payment_method(provider_pm_id)
    except (ProviderError, ProviderUnavailableError) as exc:
        log.warning("detach failed for a deleted card", extra={"error": type(exc).__name__})
