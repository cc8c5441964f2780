"""Provider events, each applied once, in whatever order they arrive.

The event id is inserted in the same transaction that applies the event, so a
second delivery (even a concurrent one: it waits on the unique key, then fails)
changes nothing. Ordering needs no bookkeeping: every change goes through
settlement's conditional transitions, so a late `payment_failed` cannot undo a
success and a PAID invoice never goes back to OPEN.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Payment, PaymentMethod, PaymentMethodStatus, WebhookEvent
from services.card_setup import settle_card_setup
from services.context import ServiceContext
from services.declines import decline_message
from services.payment_methods import lock_account, remove_card
from services.provider.base import ChargeResult
from services.settlement import apply_charge_result

log = logging.getLogger(__name__)

_CHARGE_STATUS = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "failed",
    "payment_intent.requires_action": "requires_action",
    "payment_intent.processing": "processing",
    "payment_intent.canceled": "canceled",
}


async def handle_event(ctx: ServiceContext, event: dict[str, Any]) -> str:
    """Apply one verified event; returns "applied", "duplicate" or "ignored"."""
    event_id, event_type = str(event.get("id", "")), str(event.get("type", ""))
    obj = (event.get("data") or {}).get("object") or {}
    if not event_id or not isinstance(obj, dict):
        return "ignored"
    try:
        async with in_transaction():
            await WebhookEvent.create(id=event_id, type=event_type, received_at=ctx.clock.now())
            applied = await _apply(ctx, event_type, obj)
    except IntegrityError:
        return "duplicate"
    return "applied" if applied else "ignored"


async def _apply(ctx: ServiceContext, event_type: str, obj: dict[str, Any]) -> bool:
    now = ctx.clock.now()
    if event_type in _CHARGE_STATUS:
        payment = await _payment_for(obj.get("id"), obj.get("metadata") or {})
        if payment is None:
            return False
        await apply_charge_result(payment, _charge_result(event_type, obj), now, ctx.policy)
        return True
    if event_type in ("setup_intent.succeeded", "setup_intent.setup_failed"):
        pm = await PaymentMethod.get_or_none(
            setup_intent_id=obj.get("id"), status=PaymentMethodStatus.REQUIRES_ACTION
        )
        if pm is None:
            return False
        await settle_card_setup(pm.id, succeeded=event_type.endswith("succeeded"), now=now)
        return True
    if event_type == "payment_method.detached":
        return await _card_detached(str(obj.get("id", "")), now)
    if event_type == "charge.refunded":
        payment = await _payment_for(obj.get("payment_intent"), obj.get("metadata") or {})
        if payment is None:
            return False
        refunded = int(obj.get("amount_refunded") or 0)
        # Refund totals only grow; an older event arriving late cannot lower them.
        await Payment.filter(id=payment.id, amount_refunded__lt=refunded).update(
            amount_refunded=refunded, updated_at=now
        )
        return True
    return False


async def _payment_for(intent_id: Any, metadata: dict[str, Any]) -> Payment | None:
    if intent_id:
        payment = await Payment.get_or_none(provider_payment_id=str(intent_id))
        if payment is not None:
            return payment
    raw = metadata.get("payment_id")
    if raw is not None and str(raw).isdigit():
        return await Payment.get_or_none(id=int(raw))
    return None


def _charge_result(event_type: str, obj: dict[str, Any]) -> ChargeResult:
    error = obj.get("last_payment_error") or {}
    code = error.get("decline_code") or error.get("code") if isinstance(error, dict) else None
    next_action = obj.get("next_action") or {}
    redirect = (next_action.get("redirect_to_url") or {}).get("url") if next_action else None
    return ChargeResult(
        payment_intent_id=str(obj.get("id")),
        status=_CHARGE_STATUS[event_type],  # type: ignore[arg-type]
        amount=int(obj.get("amount") or 0),
        currency=str(obj.get("currency") or "").upper(),
        client_secret=obj.get("client_secret"),
        redirect_url=redirect,
        failure_code=code,
        failure_message=decline_message(code) if code else None,
    )


async def _card_detached(provider_id: str, now: datetime) -> bool:
    """Detached at the provider (e.g. from its dashboard): it can no longer be charged."""
    pm = (
        await PaymentMethod.filter(provider_id=provider_id)
        .exclude(status=PaymentMethodStatus.DELETED)
        .first()
    )
    if pm is None:
        return False
    async with in_transaction():
        await lock_account(pm.account_id)
        # Read again under the lock: a concurrent makeDefault may just have moved it.
        await remove_card(await PaymentMethod.get(id=pm.id), now)
    return True
