"""Settle payments a crash or a timeout left unfinished.

A PENDING payment may or may not have reached the provider: it is sent again with
its own idempotency key, which the provider answers with the first outcome (or
processes now, once). A PROCESSING payment is looked up. Both then go through
settlement's conditional transitions, so racing a webhook or a customer is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from models import Account, Payment, PaymentMethod, PaymentStatus
from services.context import ServiceContext
from services.errors import BillingError, PaymentDeclined
from services.payments import charge_claimed
from services.provider.base import ProviderUnavailableError
from services.settlement import apply_charge_result, record_failure

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    examined: int = 0
    settled: int = 0
    errors: list[str] = field(default_factory=list)


async def settle_stale(ctx: ServiceContext, *, limit: int = 50) -> ReconcileReport:
    now = ctx.clock.now()
    cutoff = now - ctx.policy.reconcile_after
    report = ReconcileReport()
    stale = (
        await Payment.filter(
            status__in=[PaymentStatus.PENDING, PaymentStatus.PROCESSING], updated_at__lt=cutoff
        )
        .order_by("updated_at", "id")
        .limit(limit)
    )
    for payment in stale:
        # Lease the row: of two reconcilers, only the one whose UPDATE matches goes on.
        if not await Payment.filter(id=payment.id, updated_at=payment.updated_at).update(
            updated_at=now
        ):
            continue
        report.examined += 1
        try:
            await _settle(ctx, payment)
        except (BillingError, ProviderUnavailableError) as exc:
            report.errors.append(getattr(exc, "code", type(exc).__name__))
            continue
        await payment.refresh_from_db()
        if payment.status not in (PaymentStatus.PENDING, PaymentStatus.PROCESSING):
            report.settled += 1
    return report


async def _settle(ctx: ServiceContext, payment: Payment) -> None:
    if payment.status is PaymentStatus.PROCESSING and payment.provider_payment_id:
        result = await ctx.provider.retrieve_charge(payment.provider_payment_id)
        await apply_charge_result(payment, result, ctx.clock.now(), ctx.policy)
        return
    pm = (
        await PaymentMethod.get_or_none(id=payment.payment_method_id)
        if payment.payment_method_id
        else None
    )
    if pm is None:
        await record_failure(
            payment,
            code="no_payment_method",
            message="The card for this payment is no longer on file.",
            now=ctx.clock.now(),
            policy=ctx.policy,
        )
        return
    account = await Account.get(id=payment.account_id)
    try:
        await charge_claimed(ctx, payment, pm, account)
    except PaymentDeclined:
        pass  # a decline is an outcome too: recorded on the payment, so it is settled
