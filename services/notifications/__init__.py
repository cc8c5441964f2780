"""Customer emails through an outbox.

`enqueue` writes a message row inside the caller's transaction, next to the state
change it reports, so a message exists exactly when the change committed. The
sender (services/notifications/sender.py) delivers rows over SMTP later; a unique
`dedupe_key` keeps one event from enqueuing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models import Account, OutboxMessage

TEMPLATES = frozenset(
    {
        "payment_failed",
        "payment_succeeded",
        "authentication_required",
        "subscription_ended",
        "webhook_endpoint_disabled",
        "usage_notification",
        "plan_changed",
        "cancellation_scheduled",
        "paid_plan_ended",
        "subscription_resumed",
        "plan_change_canceled",
        "payment_method_updated",
    }
)


async def enqueue(
    *,
    template: str,
    account: Account,
    dedupe_key: str,
    context: dict[str, Any],
    now: datetime,
) -> bool:
    """Queue one email; False when this dedupe key was queued before (nothing written)."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown email template {template!r}")
    # Callers enqueue after winning a conditional state transition, so two callers
    # never race here; the unique key still refuses a duplicate outright.
    if await OutboxMessage.exists(dedupe_key=dedupe_key):
        return False
    await OutboxMessage.create(
        account_id=account.id,
        dedupe_key=dedupe_key,
        template=template,
        to_email=account.billing_email or account.email,
        context={"account_name": account.billing_name or account.name, **context},
        next_attempt_at=now,
        created_at=now,
    )
    return True
