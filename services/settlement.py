"""Record a provider outcome on our payment row, exactly once.

Every transition is a conditional UPDATE from an unsettled state, so the API, a
webhook and the reconciler can report the same outcome concurrently and it is
applied once. A success pays the invoice and restores a past-due subscription at
once; a failure releases the invoice's claim so the customer can try again.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    Subscription,
    SubscriptionStatus,
)
from models.enums import UNSETTLED_PAYMENT_STATUSES
from services.declines import decline_message
from services.provider.base import ChargeResult

_RESTORABLE = (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)


async def apply_charge_result(
    payment: Payment, result: ChargeResult, now: datetime
) -> tuple[Payment, Invoice]:
    unsettled = list(UNSETTLED_PAYMENT_STATUSES)
    if result.status == "succeeded":
        await _record_success(payment, result, now)
    elif result.status == "requires_action":
        await Payment.filter(id=payment.id, status__in=unsettled).update(
            status=PaymentStatus.REQUIRES_ACTION,
            provider_payment_id=result.payment_intent_id,
            next_action={
                "type": "use_stripe_sdk",
                "client_secret": result.client_secret,
                "redirect_url": result.redirect_url,
            },
            updated_at=now,
        )
    elif result.status == "processing":
        await Payment.filter(id=payment.id, status__in=unsettled).update(
            status=PaymentStatus.PROCESSING,
            provider_payment_id=result.payment_intent_id,
            updated_at=now,
        )
    else:
        await record_failure(
            payment,
            code=result.failure_code or result.status,
            message=result.failure_message or decline_message(result.failure_code),
            now=now,
            provider_payment_id=result.payment_intent_id,
        )
    await payment.refresh_from_db()
    invoice = await Invoice.get(id=payment.invoice_id)
    return payment, invoice


async def record_failure(
    payment: Payment,
    *,
    code: str,
    message: str,
    now: datetime,
    provider_payment_id: str | None = None,
) -> None:
    async with in_transaction():
        changed = await Payment.filter(
            id=payment.id, status__in=list(UNSETTLED_PAYMENT_STATUSES)
        ).update(
            status=PaymentStatus.FAILED,
            provider_payment_id=provider_payment_id or payment.provider_payment_id,
            failure_code=code,
            failure_message=message,
            next_action=None,
            settled_at=now,
            updated_at=now,
        )
        if changed:
            await Invoice.filter(
                id=payment.invoice_id,
                active_payment_id=payment.id,
            ).update(active_payment_id=None)


async def _record_success(payment: Payment, result: ChargeResult, now: datetime) -> None:
    async with in_transaction():
        changed = await Payment.filter(
            id=payment.id, status__in=list(UNSETTLED_PAYMENT_STATUSES)
        ).update(
            status=PaymentStatus.SUCCEEDED,
            provider_payment_id=result.payment_intent_id,
            next_action=None,
            failure_code=None,
            failure_message=None,
            settled_at=now,
            updated_at=now,
        )
        if not changed:
            return
        invoice = await Invoice.select_for_update().get(
            id=payment.invoice_id
        )
        invoice.amount_paid += payment.amount
        if invoice.active_payment_id == payment.id:
            invoice.active_payment_id = None
        if invoice.amount_paid >= invoice.total and invoice.status is InvoiceStatus.OPEN:
            invoice.status = InvoiceStatus.PAID
            invoice.paid_at = now
        await invoice.save(update_fields=["amount_paid", "active_payment_id", "status", "paid_at"])
        if invoice.status is InvoiceStatus.PAID and invoice.subscription_id:
            await _restore_subscription(invoice.subscription_id)


async def _restore_subscription(subscription_id: int) -> None:
    """Past due turns ACTIVE as soon as nothing it owes is left open."""
    still_open = await Invoice.filter(
        subscription_id=subscription_id, status=InvoiceStatus.OPEN
    ).exists()
    if not still_open:
        await Subscription.filter(id=subscription_id, status__in=list(_RESTORABLE)).update(
            status=SubscriptionStatus.ACTIVE, past_due_since=None
        )
