"""What a charge outcome means for the subscription and the customer's inbox.

Called inside settlement's transactions, so the state change and its email commit
together. Only collection attempts by the worker (off-session) move the dunning
schedule; a customer paying from the portal sees the outcome on screen.
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date

from models import (
    Account,
    Invoice,
    Payment,
    PaymentMethod,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from models.events import BillingEventType as EV
from services import notifications
from services.events import log as events
from services.money import Money
from services.policy import BillingPolicy
from services.renewals import add_interval

_FEATURES_ON = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)
RESTORABLE = (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)


async def _card_label(payment: Payment, known: PaymentMethod | None = None) -> str:
    if payment.payment_method_id is None:
        return "card"
    if known is not None and known.id == payment.payment_method_id:
        pm: PaymentMethod | None = known  # brand and last4 of a card never change
    else:
        pm = await PaymentMethod.get_or_none(id=payment.payment_method_id)
    return f"{pm.brand.title()} card ending {pm.last4}" if pm else "card"


def _amount(payment: Payment) -> str:
    return Money(payment.amount, payment.currency).format()


async def collection_failed(
    payment: Payment,
    invoice: Invoice,
    now: datetime,
    policy: BillingPolicy,
    *,
    requires_action: bool,
) -> None:
    """An off-session attempt failed (or needs 3-D Secure): schedule the next retry,
    turn the subscription past due, or end it once the schedule is exhausted."""
    first_failed = invoice.first_failed_at or now
    delay = policy.retry_delay(invoice.collection_attempts)
    next_attempt = first_failed + delay if delay is not None else None
    await Invoice.filter(id=invoice.id).update(
        first_failed_at=first_failed, next_attempt_at=next_attempt
    )
    account = await Account.get(id=invoice.account_id)
    sub = (
        await Subscription.get_or_none(id=invoice.subscription_id)
        if invoice.subscription_id
        else None
    )
    common = {
        "amount": _amount(payment),
        "invoice_number": invoice.number or "",
        "portal_url": policy.portal_url,
    }
    if next_attempt is None and sub is not None:
        ended = await (
            Subscription.filter(id=sub.id)
            .exclude(status=SubscriptionStatus.CANCELED)
            .update(
                status=policy.final_status,
                past_due_since=sub.past_due_since or now,
                canceled_at=now if policy.final_status is SubscriptionStatus.CANCELED else None,
            )
        )
        if ended:
            await _subscription_updated(sub, now)
        # The subscription has ended: its other open invoices stay payable from the
        # portal but are no longer charged automatically (no more retry emails).
        await Invoice.filter(subscription_id=sub.id, status="OPEN").update(next_attempt_at=None)
        await notifications.enqueue(
            template="subscription_ended",
            account=account,
            dedupe_key=f"subscription-ended:{invoice.id}",
            context={**common, "canceled": policy.final_status is SubscriptionStatus.CANCELED},
            now=now,
        )
        return
    if sub is not None and await Subscription.filter(
        id=sub.id, status__in=list(_FEATURES_ON)
    ).update(status=SubscriptionStatus.PAST_DUE, past_due_since=now):
        await _subscription_updated(sub, now)
    if requires_action:
        await notifications.enqueue(
            template="authentication_required",
            account=account,
            dedupe_key=f"authentication-required:{payment.id}",
            context=common,
            now=now,
        )
        return
    await notifications.enqueue(
        template="payment_failed",
        account=account,
        dedupe_key=f"payment-failed:{payment.id}",
        context={
            **common,
            "card": await _card_label(payment),
            "reason": payment.failure_message or "The card was declined.",
            "next_retry_date": format_date(next_attempt, format="medium", locale="en_US")
            if next_attempt
            else None,
        },
        now=now,
    )


async def _subscription_updated(sub: Subscription, now: datetime) -> None:
    await events.append(
        EV.SUBSCRIPTION_UPDATED, account_id=sub.account_id, subscription_id=sub.id, now=now
    )


async def _still_delinquent(subscription_id: int) -> bool:
    return await Invoice.filter(
        subscription_id=subscription_id, status="OPEN", first_failed_at__not_isnull=True
    ).exists()


async def _restore(sub: Subscription, now: datetime) -> bool:
    """PAST_DUE or UNPAID (as read) → ACTIVE, if it still is. An UNPAID subscription
    stopped renewing, so its billing restarts today instead of back-billing every month
    it was off."""
    changes: dict[str, object] = {"status": SubscriptionStatus.ACTIVE, "past_due_since": None}
    if sub.status is SubscriptionStatus.UNPAID and sub.current_period_end <= now:
        plan = await Plan.get(id=sub.plan_id)
        changes.update(
            current_period_start=now,
            current_period_end=add_interval(now, plan.interval, now.day),
            billing_anchor_day=now.day,
        )
    return bool(await Subscription.filter(id=sub.id, status=sub.status).update(**changes))


async def payment_succeeded(
    payment: Payment,
    invoice: Invoice,
    now: datetime,
    policy: BillingPolicy,
    account: Account | None = None,
    card: PaymentMethod | None = None,
) -> None:
    """The invoice is paid (settlement already cleared its retry): restore the
    subscription at once and send the receipt. `account` and `card`, when the caller
    holds them (read by this request), spare two reads."""
    restored = False
    if invoice.subscription_id:
        # Only a delinquent invoice (one whose collection already failed) keeps the
        # subscription past due; an open bill that is simply not due yet does not.
        # The subscription first: it is rarely past due, and then nothing else is read.
        sub = await Subscription.get_or_none(
            id=invoice.subscription_id, status__in=list(RESTORABLE)
        )
        if sub is not None and not await _still_delinquent(invoice.subscription_id):
            restored = await _restore(sub, now)
            if restored:
                await events.append(
                    EV.SUBSCRIPTION_UPDATED,
                    account_id=invoice.account_id,
                    subscription_id=invoice.subscription_id,
                    now=now,
                )
    if account is None or account.id != invoice.account_id:
        account = await Account.get(id=invoice.account_id)
    await notifications.enqueue(
        template="payment_succeeded",
        account=account,
        dedupe_key=f"payment-succeeded:{payment.id}",
        context={
            "amount": _amount(payment),
            "invoice_number": invoice.number or "",
            "card": await _card_label(payment, card),
            "restored": restored,
            "receipt_url": policy.receipt_url(invoice.id),
        },
        now=now,
    )
