"""Cancel at the period end, and change one's mind before it comes.

Nothing ends now: `cancel_at_period_end` is set, paid features stay on until the
period end, and the renewal that closes the period moves the account to Free with no
invoice (services/renewals.py, services/plan_switch.py). A past-due subscription can
still be canceled (only upgrades wait for the balance).
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import CancellationReason, Plan, Subscription, SubscriptionStatus
from models.events import BillingEventType as EV
from services import notifications
from services.access import writable_account
from services.auth import Principal
from services.context import ServiceContext
from services.errors import InvalidInput, NotFound, PlanChangeNotAllowed
from services.events import log as events
from services.plan_switch import day

MAX_COMMENT = 500
#: States with a paid period that can be canceled at its end.
CANCELABLE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE)


async def _subscription(account_id: int) -> Subscription:
    sub = await Subscription.get_or_none(account_id=account_id)
    if sub is None:
        raise NotFound("This account has no subscription.", field="accountId")
    return sub


async def cancel_subscription(
    ctx: ServiceContext,
    principal: Principal,
    account_id: int | None,
    reason: CancellationReason,
    comment: str | None = None,
) -> Subscription:
    account = await writable_account(principal, account_id)
    text = (comment or "").strip() or None
    if text is not None and len(text) > MAX_COMMENT:
        raise InvalidInput(f"comment is longer than {MAX_COMMENT} characters.", field="comment")
    sub = await _subscription(account.id)
    plan = await Plan.get(id=sub.plan_id)
    if plan.price_amount == 0 or sub.status not in CANCELABLE:
        raise PlanChangeNotAllowed("There is no paid subscription to cancel.", field="accountId")
    now = ctx.clock.now()
    async with in_transaction():
        # Cancelling replaces a scheduled downgrade: at the period end it is Free.
        changed = await Subscription.filter(
            id=sub.id, status__in=list(CANCELABLE), cancel_at_period_end=False
        ).update(
            cancel_at_period_end=True,
            cancellation_reason=reason,
            cancellation_comment=text,
            cancel_requested_at=now,
            pending_plan_id=None,
        )
        if changed:
            await events.append(
                EV.SUBSCRIPTION_UPDATED, account_id=account.id, subscription_id=sub.id, now=now
            )
            await notifications.enqueue(
                template="cancellation_scheduled",
                account=account,
                dedupe_key=f"cancellation-scheduled:{sub.id}:{now.isoformat()}",
                context={
                    "plan": plan.name,
                    "end_date": day(sub.current_period_end),
                    "portal_url": ctx.policy.portal_url,
                },
                now=now,
            )
        elif await Subscription.filter(id=sub.id, cancel_at_period_end=True).update(
            cancellation_reason=reason, cancellation_comment=text
        ):  # already canceling: the latest reason is the one kept
            await events.append(
                EV.SUBSCRIPTION_UPDATED, account_id=account.id, subscription_id=sub.id, now=now
            )
    await sub.refresh_from_db()
    return sub


async def resume_subscription(
    ctx: ServiceContext, principal: Principal, account_id: int | None
) -> Subscription:
    """Undo a cancellation before the period ends; the plan renews as before."""
    account = await writable_account(principal, account_id)
    sub = await _subscription(account.id)
    plan = await Plan.get(id=sub.plan_id)
    now = ctx.clock.now()
    if sub.cancel_at_period_end and now >= sub.current_period_end:
        # Ended, the renewal not run yet: resuming now would renew (and charge) a plan
        # the customer canceled; choosing a plan again is a plan change.
        raise PlanChangeNotAllowed(
            "The paid period has ended and the account moves to the Free plan; "
            "choose a plan again from there.",
            field="accountId",
        )
    async with in_transaction():
        if await Subscription.filter(id=sub.id, cancel_at_period_end=True).update(
            cancel_at_period_end=False,
            cancellation_reason=None,
            cancellation_comment=None,
            cancel_requested_at=None,
        ):
            await events.append(
                EV.SUBSCRIPTION_UPDATED, account_id=account.id, subscription_id=sub.id, now=now
            )
            await notifications.enqueue(
                template="subscription_resumed",
                account=account,
                dedupe_key=f"subscription-resumed:{sub.id}:{now.isoformat()}",
                context={
                    "plan": plan.name,
                    "renewal_date": day(sub.current_period_end),
                    "portal_url": ctx.policy.portal_url,
                },
                now=now,
            )
    await sub.refresh_from_db()
    return sub
