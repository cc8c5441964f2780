"""Paying an invoice, at most one charge per attempt whatever fails.

1. Claim: one short transaction inserts a PENDING payment and sets the invoice's
   `active_payment_id` with a conditional UPDATE (`... WHERE active_payment_id IS NULL
   AND status = 'OPEN'`) that only one caller can win.
2. Charge: the provider call, outside any transaction, with an idempotency key stored
   on the payment row, so repeating it can never charge twice.
3. Record: a second short transaction applies the outcome (services/settlement.py).

A client `idempotency_key` is stored on the payment; the same key replays that
payment's answer, a different request under the same key is a conflict.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from tortoise.exceptions import IntegrityError

from models import Account, Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus
from services.access import check_billing_change, scoped_payment
from services.auth import Principal
from services.charging import charge_claimed, claim_attempt
from services.context import ServiceContext
from services.errors import (
    IdempotencyConflict,
    InvalidInput,
    InvoiceNotPayable,
    NotFound,
    PaymentDeclined,
    PaymentInProgress,
    PaymentMethodRequired,
    ProviderUnavailable,
)
from services.payment_methods import is_usable, not_usable, usable_default
from services.provider.base import ChargeResult, ProviderError, ProviderUnavailableError
from services.reconcile import settle_payment
from services.settlement import apply_charge_result

#: A PENDING payment older than this had its provider call cut off; it is re-sent
#: with the same idempotency key, which the provider answers with the first outcome.
STALE_PENDING_AFTER = timedelta(seconds=60)


async def pay_invoice(
    ctx: ServiceContext,
    principal: Principal,
    invoice_id: int,
    *,
    payment_method_id: int | None = None,
    idempotency_key: str | None = None,
) -> tuple[Invoice, Payment]:
    invoice, account = await _invoice_and_account(principal, invoice_id)
    check_billing_change(principal, account)
    fingerprint = hashlib.sha256(f"{invoice.id}:{payment_method_id or ''}".encode()).hexdigest()
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not 1 <= len(idempotency_key) <= 128:
            raise InvalidInput(
                "idempotencyKey must be 1 to 128 characters.", field="idempotencyKey"
            )
        first = await Payment.get_or_none(
            account_id=account.id, client_idempotency_key=idempotency_key
        )
        if first is not None:
            return await _replay(ctx, first, fingerprint)
    _check_payable(invoice)
    pm = await card_for_charge(ctx, account, payment_method_id)
    if invoice.active_payment_id is not None:
        earlier = await release_stale_claim(ctx, invoice)
        if earlier is not None:  # the cut-off attempt had gone through: that is the answer
            await invoice.refresh_from_db()
            return invoice, earlier
    try:
        payment = await claim_attempt(
            invoice,
            pm.id,
            ctx.clock.now(),
            client_idempotency_key=idempotency_key,
            request_fingerprint=fingerprint,
        )
    except IntegrityError:  # the idempotency key was just taken by a concurrent request
        payment = None
    if payment is None:
        return await _after_lost_claim(ctx, account, invoice.id, idempotency_key, fingerprint)
    return await charge_claimed(ctx, payment, pm, account)


async def _invoice_and_account(principal: Principal, invoice_id: int) -> tuple[Invoice, Account]:
    """`scoped_invoice` and its account in one statement (a join)."""
    invoice = (
        await Invoice.filter(id=invoice_id, account_id__in=list(principal.account_ids))
        .select_related("account")
        .first()
    )
    if invoice is None:
        raise NotFound(field="invoiceId")
    return invoice, invoice.account


async def confirm_payment(
    ctx: ServiceContext, principal: Principal, payment_id: int
) -> tuple[Invoice, Payment]:
    """After 3-D Secure in the browser: ask the provider how the payment ended."""
    payment = await scoped_payment(principal, payment_id)
    account = await Account.get(id=payment.account_id)
    check_billing_change(principal, account)
    if payment.status in (PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING):
        assert payment.provider_payment_id is not None
        result = await _retrieve(ctx, payment.provider_payment_id)
        payment, _ = await apply_charge_result(payment, result, ctx.clock.now(), ctx.policy)
    elif payment.status is PaymentStatus.PENDING:
        raise PaymentInProgress("This payment has not reached the provider yet; try again shortly.")
    invoice = await Invoice.get(id=payment.invoice_id)
    if payment.status is PaymentStatus.FAILED:
        if payment.failure_code == "canceled":
            _superseded(invoice)
        raise PaymentDeclined(payment)
    return invoice, payment


def _superseded(invoice: Invoice) -> None:
    """An attempt we canceled ourselves (a newer one replaced it) was not declined: say
    what became of the invoice instead."""
    if invoice.status is InvoiceStatus.PAID:
        raise InvoiceNotPayable(
            "This payment attempt was superseded by a newer one: the invoice is already paid.",
            field="paymentId",
        )
    if invoice.active_payment_id is not None:
        raise PaymentInProgress(
            "This payment attempt was superseded by a newer one that has not finished yet."
        )


async def _retrieve(ctx: ServiceContext, payment_intent_id: str) -> ChargeResult:
    try:
        return await ctx.provider.retrieve_charge(payment_intent_id)
    except ProviderUnavailableError as exc:
        raise ProviderUnavailable() from exc


def _check_payable(invoice: Invoice) -> None:
    if invoice.status is not InvoiceStatus.OPEN:
        raise InvoiceNotPayable(
            f"This invoice is {invoice.status.value.lower()}; only open invoices can be paid.",
            field="invoiceId",
        )
    if invoice.amount_due <= 0:
        raise InvoiceNotPayable("Nothing is due on this invoice.", field="invoiceId")


async def card_for_charge(
    ctx: ServiceContext, account: Account, payment_method_id: int | None
) -> PaymentMethod:
    """The card a customer-started charge uses: the one chosen, else the default (an
    expired default hands over to a usable card); refusals say why (services/errors)."""
    now = ctx.clock.now()
    if payment_method_id is not None:
        pm = await PaymentMethod.get_or_none(id=payment_method_id, account_id=account.id)
        if pm is None or pm.deleted_at is not None:
            raise NotFound(field="paymentMethodId")
    else:
        pm = await usable_default(account.id, now)
        if pm is None:
            raise PaymentMethodRequired(field="paymentMethodId")
    if not is_usable(pm, now):
        raise not_usable(pm, now, field="paymentMethodId")
    return pm


async def release_stale_claim(ctx: ServiceContext, invoice: Invoice) -> Payment | None:
    """Free the invoice from an attempt that will not finish by itself.

    A 3-D Secure attempt the customer abandoned is canceled at the provider first
    (if it had succeeded meanwhile, that success is recorded instead). A PENDING
    attempt whose provider call was cut off is re-sent with its own key. Returns that
    attempt when it turned out to have paid the invoice.
    """
    active = await Payment.get_or_none(id=invoice.active_payment_id)
    if active is None:
        return None
    if active.status is PaymentStatus.REQUIRES_ACTION and active.provider_payment_id:
        try:
            result = await ctx.provider.cancel_charge(active.provider_payment_id)
        except ProviderError:
            result = await _retrieve(ctx, active.provider_payment_id)
        except ProviderUnavailableError as exc:
            raise ProviderUnavailable() from exc
        await apply_charge_result(active, result, ctx.clock.now(), ctx.policy)
    elif (
        active.status is PaymentStatus.PENDING
        and ctx.clock.now() - active.updated_at > STALE_PENDING_AFTER
    ):
        await settle_payment(ctx, active)
    await invoice.refresh_from_db()
    await active.refresh_from_db()
    if invoice.status is InvoiceStatus.PAID and active.status is PaymentStatus.SUCCEEDED:
        return active
    if invoice.status is not InvoiceStatus.OPEN:
        _check_payable(invoice)
    if invoice.active_payment_id is not None:
        raise PaymentInProgress()
    return None


async def _after_lost_claim(
    ctx: ServiceContext, account: Account, invoice_id: int, key: str | None, fingerprint: str
) -> tuple[Invoice, Payment]:
    if key is not None:
        first = await Payment.get_or_none(account_id=account.id, client_idempotency_key=key)
        if first is not None:
            return await _replay(ctx, first, fingerprint)
    invoice = await Invoice.get(id=invoice_id)
    _check_payable(invoice)
    raise PaymentInProgress()


async def _replay(ctx: ServiceContext, first: Payment, fingerprint: str) -> tuple[Invoice, Payment]:
    """The answer to a repeated key: one answer per key, or "in progress, retry".

    While the first request has not recorded the provider's answer (PENDING) a repeat
    gets PAYMENT_IN_PROGRESS, never a "PENDING" success; once it has, every repeat gets
    that recorded outcome (REQUIRES_ACTION with the same nextAction, SUCCEEDED,
    PROCESSING, or the decline), as the first request answered it. A first attempt
    cut off before the provider answered (stale PENDING) is re-sent with its own
    provider key first, so a client retrying after a timeout gets the real outcome
    instead of "in progress" forever.
    """
    if first.request_fingerprint != fingerprint:
        raise IdempotencyConflict(field="idempotencyKey")
    if first.status is PaymentStatus.PENDING:
        if ctx.clock.now() - first.updated_at <= STALE_PENDING_AFTER:
            raise PaymentInProgress(
                "The first request with this idempotency key is still being processed; "
                "retry with the same key shortly for its answer.",
                field="idempotencyKey",
            )
        await settle_payment(ctx, first)
        await first.refresh_from_db()
        if first.status is PaymentStatus.PENDING:  # the provider still could not be asked
            raise PaymentInProgress(
                "The first request with this idempotency key has not been settled yet; "
                "retry with the same key later.",
                field="idempotencyKey",
            )
    invoice = await Invoice.get(id=first.invoice_id)
    if first.status is PaymentStatus.FAILED:
        if first.failure_code == "canceled":
            _superseded(invoice)
        raise PaymentDeclined(first)
    return invoice, first
