"""The worker's charges: renewal invoices and dunning retries, off-session.

Each due invoice is claimed the same way `payInvoice` claims one: a PENDING payment
row and the invoice's `active_payment_id` set by a conditional UPDATE in one short
transaction (candidates read with `FOR UPDATE SKIP LOCKED` on PostgreSQL), then the
provider call outside any transaction with the payment's own idempotency key. So a
worker and a customer paying at the same moment still make one charge.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from models import Account, Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus
from services.charging import charge_claimed, new_attempt
from services.context import ServiceContext
from services.errors import BillingError
from services.payment_methods import is_usable, usable_cards, usable_default
from services.payments import release_stale_claim
from services.settlement import record_failure

log = logging.getLogger(__name__)


@dataclass
class CollectionReport:
    attempted: int = 0
    succeeded: int = 0
    failed: int = 0
    requires_action: int = 0
    errors: list[str] = field(default_factory=list)


async def collect_due(ctx: ServiceContext, *, limit: int = 50) -> CollectionReport:
    report = CollectionReport()
    await _release_abandoned(ctx, limit)
    for _ in range(limit):
        claimed = await _claim_next(ctx)
        if claimed is None:
            break
        payment, pm, account = claimed
        report.attempted += 1
        if pm is None:
            await record_failure(
                payment,
                code="no_payment_method",
                message="There is no usable card on file.",
                now=ctx.clock.now(),
                policy=ctx.policy,
            )
            report.failed += 1
            continue
        try:
            _, payment = await charge_claimed(ctx, payment, pm, account)
        except BillingError as exc:  # declined (recorded) or provider unavailable (reconciled)
            report.errors.append(exc.code)
        await payment.refresh_from_db()
        if payment.status is PaymentStatus.SUCCEEDED:
            report.succeeded += 1
        elif payment.status is PaymentStatus.REQUIRES_ACTION:
            report.requires_action += 1
        elif payment.status is PaymentStatus.FAILED:
            report.failed += 1
    return report


async def _release_abandoned(ctx: ServiceContext, limit: int) -> None:
    """A retry is due but the last attempt still waits for 3-D Secure: cancel it first."""
    stuck = await Invoice.filter(
        status=InvoiceStatus.OPEN,
        auto_collect=True,
        next_attempt_at__lte=ctx.clock.now(),
        active_payment_id__not_isnull=True,
    ).limit(limit)
    for invoice in stuck:
        try:
            await release_stale_claim(ctx, invoice)
        except BillingError as exc:
            log.info(
                "due invoice still claimed", extra={"invoice_id": invoice.id, "code": exc.code}
            )


async def _claim_next(
    ctx: ServiceContext,
) -> tuple[Payment, PaymentMethod | None, Account] | None:
    """Claim one due invoice for an off-session charge with the default card of now."""
    now = ctx.clock.now()
    async with in_transaction():
        invoice = (
            await Invoice.filter(
                status=InvoiceStatus.OPEN,
                auto_collect=True,
                next_attempt_at__lte=now,
                active_payment_id=None,
            )
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "id")
            .first()
        )
        if invoice is None:
            return None
        account = await Account.get(id=invoice.account_id)
        pm = await PaymentMethod.get_or_none(account_id=account.id, is_default=True)
        usable = pm if pm is not None and is_usable(pm, now) else None
        if usable is None:  # the default expired: the newest usable card pays instead
            usable = next(iter(await usable_cards(account.id, now)), None)
        payment = await new_attempt(invoice, usable.id if usable else None, now, off_session=True)
        won = await Invoice.filter(
            id=invoice.id,
            status=InvoiceStatus.OPEN,
            active_payment_id=None,
            next_attempt_at=invoice.next_attempt_at,
        ).update(
            active_payment_id=payment.id,
            next_attempt_at=None,
            collection_attempts=invoice.collection_attempts + 1,
        )
        if not won:
            await payment.delete()
            return None
    if usable is not None and not usable.is_default:
        await usable_default(account.id, now)  # and takes over as the default
    return payment, usable, account
