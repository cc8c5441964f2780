"""What a subscription means for the customer: features on or off, the next bill."""

from __future__ import annotations

from datetime import datetime

from models import Plan, Subscription, SubscriptionStatus
from services.money import Money

_FEATURES_ON = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)
_BILLS_NEXT = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE)


def paid_features_enabled(subscription: Subscription) -> bool:
    return subscription.status in _FEATURES_ON


def next_billing_date(subscription: Subscription) -> datetime | None:
    return subscription.current_period_end if subscription.status in _BILLS_NEXT else None


def next_billing_amount(subscription: Subscription, plan: Plan) -> Money | None:
    if subscription.status not in _BILLS_NEXT:
        return None
    return Money(plan.price_amount, plan.currency)
