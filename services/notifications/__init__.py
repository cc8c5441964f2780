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
    # never race here; the unique key still refuses a duplicate outright. One statement:
    # a conflict skips the row (no error, so the caller's transaction goes on).
    full = {"account_name": account.billing_name or account.name, **context}
    db = OutboxMessage._choose_db(for_write=True)
    postgres = db.capabilities.dialect == "postgres"
    mark = "$" if postgres else "?"
    marks = [f"{mark}{n}" for n in range(7)]
    if postgres:
        marks[5] += "::jsonb"
    inserted = await db.execute_query_dict(
        _INSERT_SQL.format(*marks),  # placeholders only
        [
            account.id,
            dedupe_key,
            template,
            account.billing_email or account.email,
            _CONTEXT.to_db_value(full, OutboxMessage),
            now,
        ],
    )
    return bool(inserted)


#: {1}..{6}: account id, dedupe key, template, address, context (JSON), now.
_INSERT_SQL = """
INSERT INTO outbox_message
  (account_id, dedupe_key, template, to_email, context, status, attempts, next_attempt_at,
   created_at)
VALUES ({1}, {2}, {3}, {4}, {5}, 'PENDING', 0, {6}, {6})
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id
"""
_CONTEXT = OutboxMessage._meta.fields_map["context"]
