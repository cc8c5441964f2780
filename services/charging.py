"""The provider call for a payment already claimed, and recording its outcome.

Shared by every money path (payInvoice, the worker's collection, re-sends by the
reconciler). The caller holds the claim; no transaction is open here while the
provider is called, and the payment row's own idempotency key goes with the request.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from models import Account, Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus
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
        provider_idempotency_key=_provider_key(),
        created_at=now,
        updated_at=now,
        **extra,
    )


def _provider_key() -> str:
    return f"gw-pay-{uuid.uuid4().hex}"


class _ClaimLost(Exception):
    pass


async def claim_attempt(
    invoice: Invoice,
    payment_method_id: int,
    now: datetime,
    *,
    client_idempotency_key: str | None,
    request_fingerprint: str,
) -> Payment | None:
    """A customer's claim: a new PENDING attempt (as `new_attempt` makes it) that holds
    the open invoice, or None when another attempt holds it or it is no longer open.
    An IntegrityError means the client's idempotency key is taken; nothing was written.

    On PostgreSQL one statement does both halves: the conditional UPDATE sets the claim
    to the new payment's id from its sequence, and the INSERT writes the payment only
    if that UPDATE matched. A statement is atomic, and concurrent claims queue on the
    invoice row and re-check the condition, so exactly one wins. Elsewhere, the same in
    a transaction."""
    if Payment._choose_db(for_write=True).capabilities.dialect == "postgres":
        return await _claim_in_one_statement(
            invoice, payment_method_id, now, client_idempotency_key, request_fingerprint
        )
    try:
        async with in_transaction():
            payment = await new_attempt(
                invoice,
                payment_method_id,
                now,
                client_idempotency_key=client_idempotency_key,
                request_fingerprint=request_fingerprint,
            )
            won = await Invoice.filter(
                id=invoice.id, status=InvoiceStatus.OPEN, active_payment_id=None
            ).update(active_payment_id=payment.id)
            if not won:
                raise _ClaimLost  # rolls the payment back
    except _ClaimLost:
        return None
    return payment


_CLAIM_SQL = """
WITH claim AS (
  UPDATE invoice SET active_payment_id = nextval(pg_get_serial_sequence('payment', 'id'))
  WHERE id = $1 AND status = 'OPEN' AND active_payment_id IS NULL
  RETURNING active_payment_id
)
INSERT INTO payment (id, account_id, invoice_id, payment_method_id, amount, currency, status,
  off_session, provider_idempotency_key, client_idempotency_key, request_fingerprint,
  amount_refunded, created_at, updated_at)
SELECT active_payment_id, $2::int, $1, $3::int, $4::bigint, $5::varchar, 'PENDING', false,
  $6::varchar, $7::varchar, $8::varchar, 0, $9::timestamptz, $9::timestamptz
FROM claim
RETURNING *
"""
assert (InvoiceStatus.OPEN.value, PaymentStatus.PENDING.value) == ("OPEN", "PENDING")


async def _claim_in_one_statement(
    invoice: Invoice,
    payment_method_id: int,
    now: datetime,
    client_idempotency_key: str | None,
    request_fingerprint: str,
) -> Payment | None:
    db = Payment._choose_db(for_write=True)
    rows = await db.execute_query_dict(
        _CLAIM_SQL,
        [
            invoice.id,
            invoice.account_id,
            payment_method_id,
            invoice.amount_due,
            invoice.currency,
            _provider_key(),
            client_idempotency_key,
            request_fingerprint,
            now,
        ],
    )
    return Payment._init_from_db(**rows[0]) if rows else None


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
