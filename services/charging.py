"""The provider call for a payment already claimed, and recording its outcome.

Shared by every money path (payInvoice, the worker's collection, re-sends by the
reconciler). The caller holds the claim; no transaction is open here while the
provider is called, and the payment row's own idempotency key goes with the request.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from models import Account, Invoice, Payment, PaymentMethod, PaymentStatus
from services._crashpoints import crash_point
from services.context import ServiceContext
from services.customers import ensure_customer
from services.errors import PaymentDeclined, ProviderUnavailable
from services.provider.base import ProviderError, ProviderUnavailableError
from services.settlement import apply_charge_result, record_failure


async def new_attempt(
    invoice: Invoice, payment_method_id: int | None, now: datetime, **extra: Any
) -> Payment:
    """Inside a claim's transaction: a PENDING payment for what the invoice has due, with
    its own provider idempotency key (every re-send of this attempt carries it, so a
    retry after a timeout or a crash cannot charge twice). `extra`: the caller's own
    columns (the client's idempotency key, off_session)."""
    return await Payment.create(
        account_id=invoice.account_id,
        invoice_id=invoice.id,
        payment_method_id=payment_method_id,
        amount=invoice.amount_due,
        currency=invoice.currency,
        status=PaymentStatus.PENDING,
        provider_idempotency_key=f"gw-pay-{uuid.uuid4().hex}",
        created_at=now,
        updated_at=now,
        **extra,
    )


async def charge_claimed(
    ctx: ServiceContext, payment: Payment, pm: PaymentMethod, account: Account
) -> tuple[Invoice, Payment]:
    """Call the provider for a claimed payment and record what it said."""
    crash_point("after_claim")
    customer_id = await ensure_customer(ctx, account)
    try:
        result = await ctx.provider.charge(
            customer_id=customer_id,
            payment_method_id=pm.provider_id,
            amount=payment.amount,
            currency=payment.currency,
            idempotency_key=payment.provider_idempotency_key,
            off_session=payment.off_session,
            metadata={
                "invoice_id": str(payment.invoice_id),
                "payment_id": str(payment.id),
                # Unique per row across databases: how the reconciler finds this charge.
                "payment_key": payment.provider_idempotency_key,
            },
        )
    except ProviderUnavailableError as exc:
        # Outcome unknown: the payment stays PENDING and keeps the claim until it is
        # re-sent with the same key (a later payInvoice, or the reconciler).
        raise ProviderUnavailable() from exc
    except ProviderError as exc:
        await record_failure(
            payment,
            code=exc.code or "provider_rejected",
            message="The payment provider rejected this card; use another card.",
            now=ctx.clock.now(),
            policy=ctx.policy,
        )
        await payment.refresh_from_db()
        raise PaymentDeclined(payment) from exc
    crash_point("after_provider_call")
    payment, invoice = await apply_charge_result(
        payment, result, ctx.clock.now(), ctx.policy, account=account, card=pm
    )
    crash_point("after_commit")
    if payment.status is PaymentStatus.FAILED:
        raise PaymentDeclined(payment)
    return invoice, payment
