"""Building blocks of the lifecycle tests: a subscription due now, reading the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from models import (
    Account,
    Invoice,
    OutboxMessage,
    Payment,
    PaymentMethod,
    Subscription,
    SubscriptionStatus,
    WebhookEvent,
)
from services.subscriptions import paid_features_enabled
from tests.factories import make_plan, subscribe

_MODELS = (Account, Subscription, PaymentMethod, Invoice, Payment, OutboxMessage, WebhookEvent)


async def all_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables the lifecycle touches: equal before and after = untouched."""
    return {m.__name__: await m.all().order_by("id").values() for m in _MODELS}


async def due_subscription(
    account: Account,
    now: datetime,
    *,
    price: int = 2900,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
) -> Subscription:
    """A subscription whose current month ends exactly `now` (so the worker renews it)."""
    await make_plan(account.tier, price=price)
    sub = await subscribe(account, status=status)
    await Subscription.filter(id=sub.id).update(
        current_period_start=now - timedelta(days=31), current_period_end=now
    )
    await sub.refresh_from_db()
    return sub


async def queued(template: str | None = None) -> list[OutboxMessage]:
    query = OutboxMessage.all() if template is None else OutboxMessage.filter(template=template)
    return await query.order_by("id")


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and HTML bodies of a multipart/alternative email."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None, message
    return text.get_content(), html.get_content()


async def state(sub: Subscription) -> tuple[SubscriptionStatus, bool]:
    await sub.refresh_from_db()
    return sub.status, paid_features_enabled(sub)
