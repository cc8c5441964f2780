"""Record a provider outcome on our payment row, exactly once.

Every transition is a conditional UPDATE from an unsettled state, so the API, a
webhook and the reconciler can report the same outcome concurrently and it is
applied once. The subscription change and its email (services/dunning.py) commit in
the same transaction. A success pays the invoice and restores a past-due
subscription at once; a failure releases the invoice's claim so it can be paid again.
An upgrade's invoice switches the plan when paid and is voided when its charge fails,
in the same transaction (services/plan_switch.py).
"""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from models import Account, Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus
from models.enums import UNSETTLED_PAYMENT_STATUSES
from models.events import BillingEventType as EV
from services import dunning, plan_switch
from services.declines import decline_message
from services.events import log as events
from services.policy import BillingPolicy
from services.provider.base import ChargeResult

_DEFAULT_POLICY = BillingPolicy()


async def apply_charge_result(
    payment: Payment,
    result: ChargeResult,
    now: datetime,
    policy: BillingPolicy = _DEFAULT_POLICY,
    *,
    account: Account | None = None,
    card: PaymentMethod | None = None,
) -> tuple[Payment, Invoice]:
    """Record `result` on `payment` (updated in place) and return it with its invoice.

    `account` and `card`, when the caller already holds them, spare the receipt's
    reads. A success this call recorded returns the rows as it wrote them (no re-read);
    any other outcome, or one recorded by someone else first, is read back.
    """
    if result.status == "succeeded":
        invoice = await _record_success(payment, result, now, policy, account, card)
        if invoice is not None:
            return payment, invoice
    elif result.status == "requires_action":
        await _record_requires_action(payment, result, now, policy)
    elif result.status == "processing":
        await Payment.filter(id=payment.id, status__in=list(UNSETTLED_PAYMENT_STATUSES)).update(
            status=PaymentStatus.PROCESSING,
            provider_payment_id=result.payment_intent_id,
            updated_at=now,
        )
    else:
        await record_failure(
            payment,
            code=result.failure_code or result.status,
            # A canceled intent has no decline code: say canceled, not "declined".
            message=result.failure_message or decline_message(result.failure_code or result.status),
            now=now,
            provider_payment_id=result.payment_intent_id,
            policy=policy,
        )
    await payment.refresh_from_db()
    invoice = await Invoice.get(id=payment.invoice_id)
    return payment, invoice


async def _record_requires_action(
    payment: Payment, result: ChargeResult, now: datetime, policy: BillingPolicy
) -> None:
    async with in_transaction():
        changed = await Payment.filter(
            id=payment.id, status__in=[PaymentStatus.PENDING, PaymentStatus.PROCESSING]
        ).update(
            status=PaymentStatus.REQUIRES_ACTION,
            provider_payment_id=result.payment_intent_id,
            next_action={
                "type": "use_stripe_sdk",
                "client_secret": result.client_secret,
                "redirect_url": result.redirect_url,
            },
            updated_at=now,
        )
        if changed:
            await _announce(EV.PAYMENT_REQUIRES_ACTION, payment, now)
        if changed and payment.off_session:
            invoice = await Invoice.select_for_update().get(id=payment.invoice_id)
            await dunning.collection_failed(payment, invoice, now, policy, requires_action=True)


async def record_failure(
    payment: Payment,
    *,
    code: str,
    message: str,
    now: datetime,
    provider_payment_id: str | None = None,
    policy: BillingPolicy = _DEFAULT_POLICY,
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
        if not changed:
            return
        await _announce(EV.PAYMENT_FAILED, payment, now)
        await Invoice.filter(id=payment.invoice_id, active_payment_id=payment.id).update(
            active_payment_id=None
        )
        await plan_switch.upgrade_failed(payment.invoice_id, now)
        # A canceled attempt is one we abandoned ourselves (3-D Secure never finished
        # before the next retry); its dunning step was taken when it needed action.
        if payment.off_session and code != "canceled":
            await payment.refresh_from_db()
            invoice = await Invoice.select_for_update().get(id=payment.invoice_id)
            await dunning.collection_failed(payment, invoice, now, policy, requires_action=False)


async def _record_success(
    payment: Payment,
    result: ChargeResult,
    now: datetime,
    policy: BillingPolicy,
    account: Account | None,
    card: PaymentMethod | None,
) -> Invoice | None:
    """The invoice as this success left it; None when the payment was already settled."""
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
            return None
        await _announce(EV.PAYMENT_SUCCEEDED, payment, now)
        invoice = await _credit_invoice(payment, now)
        if invoice.status is InvoiceStatus.PAID:
            await events.append(
                EV.INVOICE_PAID, account_id=invoice.account_id, invoice_id=invoice.id, now=now
            )
            await plan_switch.upgrade_paid(invoice, now, policy)
            await dunning.payment_succeeded(payment, invoice, now, policy, account, card)
    # The row is what the UPDATE above wrote: the other columns of a payment never change
    # while it is unsettled, so there is nothing to read back.
    payment.status = PaymentStatus.SUCCEEDED
    payment.provider_payment_id = result.payment_intent_id
    payment.next_action = None
    payment.failure_code = payment.failure_message = None
    payment.settled_at = payment.updated_at = now
    return invoice


#: Credit a payment to its invoice in one statement, under the row lock it takes:
#: every right-hand side reads the row as it was. The invoice is paid when the credit
#: covers the total; a paid invoice needs no collection retry (`next_attempt_at`).
#: {1}..{4}: the amount, the payment id, now, the invoice id (placeholders per dialect).
_CREDIT_SQL = """
UPDATE invoice SET
  amount_paid = amount_paid + {1},
  active_payment_id = CASE WHEN active_payment_id = {2} THEN NULL ELSE active_payment_id END,
  status = CASE WHEN status = 'OPEN' AND amount_paid + {1} >= total THEN 'PAID' ELSE status END,
  paid_at = CASE WHEN status = 'OPEN' AND amount_paid + {1} >= total THEN {3} ELSE paid_at END,
  next_attempt_at = CASE WHEN status = 'PAID' OR (status = 'OPEN' AND amount_paid + {1} >= total)
    THEN NULL ELSE next_attempt_at END
WHERE id = {4}
RETURNING *
"""
assert (InvoiceStatus.OPEN.value, InvoiceStatus.PAID.value) == ("OPEN", "PAID")


async def _credit_invoice(payment: Payment, now: datetime) -> Invoice:
    """Add the payment to its invoice, release its claim, mark the invoice paid when
    covered; returns the updated row. One UPDATE ... RETURNING instead of a SELECT ...
    FOR UPDATE, a save and a read back (both databases support RETURNING)."""
    db = Invoice._choose_db(for_write=True)
    mark = "$" if db.capabilities.dialect == "postgres" else "?"
    sql = _CREDIT_SQL.format(*(f"{mark}{n}" for n in range(5)))  # placeholders only
    rows = await db.execute_query_dict(sql, [payment.amount, payment.id, now, payment.invoice_id])
    return Invoice._init_from_db(**rows[0])


async def _announce(type: EV, payment: Payment, now: datetime) -> None:
    await events.append(
        type,
        account_id=payment.account_id,
        payment_id=payment.id,
        invoice_id=payment.invoice_id,
        now=now,
    )
