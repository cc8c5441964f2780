"""Paying for an upgrade: the quoted invoice, through payInvoice's money path.

1. Claim, in one short transaction: use the quote (a conditional UPDATE on
   `used_at IS NULL` only one caller wins), issue its invoice exactly as quoted, insert
   a PENDING payment and set the invoice's `active_payment_id`.
2. Charge: `charge_claimed`, outside any transaction, with the payment row's own
   provider idempotency key.
3. Record: settlement's conditional transitions. A success pays the invoice and
   switches the plan in that transaction; a decline (or a canceled 3-D Secure) voids
   the invoice there instead (services/plan_switch.py). So the plan moved if and only
   if the money did, whoever reports the outcome: this call, confirmPayment, the
   webhook or the reconciler.

The client's idempotency key is stored on the quote: the same key replays the first
answer (re-sending a cut-off attempt with its own provider key; PAYMENT_IN_PROGRESS
while the first attempt is unsettled), a different request under it conflicts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models import (
    Account,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    PlanChangeQuote,
    Subscription,
)
from models.events import BillingEventType as EV
from services.charging import charge_claimed, new_attempt
from services.context import ServiceContext
from services.errors import (
    BillingError,
    IdempotencyConflict,
    InvoiceNotPayable,
    PaymentDeclined,
    PaymentInProgress,
    PaymentMethodRequired,
    QuoteExpired,
)
from services.events import log as events
from services.invoices import issue_invoice
from services.money import Money
from services.payments import STALE_PENDING_AFTER, card_for_charge, release_stale_claim
from services.plan_switch import apply_upgrade, void_upgrade_invoice
from services.quotes import (
    PlanChangeOutcome,
    claim_quote,
    overage_still_matches,
    still_matches,
)
from services.reconcile import settle_payment

log = logging.getLogger(__name__)

#: An upgrade still waiting for 3-D Secure this long after it started is abandoned:
#: the worker cancels it at the provider, which voids its invoice.
ABANDONED_AFTER = timedelta(hours=1)


async def _card(
    ctx: ServiceContext, account: Account, payment_method_id: int | None
) -> PaymentMethod:
    try:  # the same card rules and refusals as payInvoice
        return await card_for_charge(ctx, account, payment_method_id)
    except PaymentMethodRequired as exc:
        raise PaymentMethodRequired(
            "Add a card to move to a paid plan.", field="paymentMethodId"
        ) from exc


async def upgrade(
    ctx: ServiceContext,
    account: Account,
    quote: PlanChangeQuote,
    *,
    payment_method_id: int | None,
    idempotency_key: str | None,
    fingerprint: str,
) -> PlanChangeOutcome:
    pm = await _card(ctx, account, payment_method_id) if quote.amount_due > 0 else None
    await release_open_upgrades(ctx, account.id)
    now = ctx.clock.now()
    async with in_transaction():
        if not await claim_quote(quote, now, idempotency_key, fingerprint):
            return await after_lost_claim(ctx, account, idempotency_key, fingerprint)
        if not await still_matches(quote) or not await overage_still_matches(quote):
            raise QuoteExpired(field="quoteId")  # rolls the claim back: nothing used
        invoice = await _issue(quote, now, ctx)
        if pm is None:  # nothing to pay (e.g. a change at the very end of a period)
            await Invoice.filter(id=invoice.id).update(status=InvoiceStatus.PAID, paid_at=now)
            await events.append(
                EV.INVOICE_PAID, account_id=account.id, invoice_id=invoice.id, now=now
            )
            await PlanChangeQuote.filter(id=quote.id).update(applied_at=now)
            await apply_upgrade(quote, now, ctx.policy, amount=Money(0, quote.currency))
            payment = None
        else:
            payment = await new_attempt(invoice, pm.id, now)
            await Invoice.filter(id=invoice.id, active_payment_id=None).update(
                active_payment_id=payment.id
            )
    if payment is not None and pm is not None:
        invoice, payment = await charge_claimed(ctx, payment, pm, account)
    await invoice.refresh_from_db()
    return PlanChangeOutcome(
        await Subscription.get_or_none(account_id=account.id), invoice, payment
    )


async def _issue(quote: PlanChangeQuote, now: datetime, ctx: ServiceContext) -> Invoice:
    """Inside the claim: the quoted invoice, line for line, issued (numbered, snapshotted)."""
    invoice = await Invoice.create(
        account_id=quote.account_id,
        subscription_id=quote.subscription_id,
        currency=quote.currency,
        period_start=quote.period_start,
        period_end=quote.period_end,
        subtotal=quote.amount_due,
        total=quote.amount_due,
        auto_collect=False,
        created_at=now,
    )
    await InvoiceLine.bulk_create(
        [
            InvoiceLine(
                invoice_id=invoice.id,
                position=position,
                description=line["description"],
                quantity=line["quantity"],
                unit_amount=line["amount"],
                amount=line["amount"],
            )
            for position, line in enumerate(quote.lines)
        ]
    )
    await PlanChangeQuote.filter(id=quote.id).update(invoice_id=invoice.id)
    return await issue_invoice(invoice, now, due_in=ctx.policy.invoice_due_in)


async def after_lost_claim(
    ctx: ServiceContext, account: Account, key: str | None, fingerprint: str
) -> PlanChangeOutcome:
    """Another request used the quote first: the same key is answered as a replay."""
    if key is not None:
        first = await PlanChangeQuote.get_or_none(account_id=account.id, client_idempotency_key=key)
        if first is not None:
            return await replay(ctx, first, fingerprint)
    raise QuoteExpired(field="quoteId")


async def replay(
    ctx: ServiceContext, quote: PlanChangeQuote, fingerprint: str
) -> PlanChangeOutcome:
    """The answer to a repeated key: the first request's change, as it stands now."""
    if quote.request_fingerprint != fingerprint:
        raise IdempotencyConflict(field="idempotencyKey")
    sub = await Subscription.get_or_none(account_id=quote.account_id)
    if quote.invoice_id is None:
        return PlanChangeOutcome(sub, None, None)
    invoice = await Invoice.get(id=quote.invoice_id)
    payment = await Payment.filter(invoice_id=invoice.id).order_by("-id").first()
    if payment is None:
        return PlanChangeOutcome(sub, invoice, None)
    if (
        payment.status is PaymentStatus.PENDING
        and ctx.clock.now() - payment.updated_at > STALE_PENDING_AFTER
    ):
        await settle_payment(ctx, payment)  # re-sent with its own key: never twice
        await payment.refresh_from_db()
    if payment.status is PaymentStatus.PENDING:
        # The first request has not recorded the provider's answer: "in progress, retry",
        # never a PENDING success (as payInvoice answers a repeated key).
        raise PaymentInProgress()
    if payment.status is PaymentStatus.FAILED:
        raise PaymentDeclined(payment)
    await invoice.refresh_from_db()
    return PlanChangeOutcome(
        await Subscription.get_or_none(account_id=quote.account_id), invoice, payment
    )


async def _open_upgrades(account_id: int | None = None) -> list[Invoice]:
    """Upgrade invoices still OPEN: their plan has not switched, nor been given up."""
    quotes = PlanChangeQuote.filter(
        applied_at=None, invoice_id__not_isnull=True, invoice__status=InvoiceStatus.OPEN
    )
    if account_id is not None:
        quotes = quotes.filter(account_id=account_id)
    ids = await quotes.values_list("invoice_id", flat=True)
    return list(await Invoice.filter(id__in=list(ids), status=InvoiceStatus.OPEN).order_by("id"))


async def _release(ctx: ServiceContext, invoice: Invoice) -> None:
    """Cancel the attempt waiting for 3-D Secure (a success meanwhile is recorded
    instead); settlement then voids the invoice, which is what "released" means here."""
    try:
        await release_stale_claim(ctx, invoice)
    except InvoiceNotPayable:
        pass  # voided by the cancellation, or paid meanwhile: either way, settled


async def release_open_upgrades(ctx: ServiceContext, account_id: int) -> None:
    """Before a new upgrade: end the account's earlier one still waiting for 3-D Secure
    (canceled at the provider, its invoice voided), so two upgrades can never both be
    paid. One still in flight answers PaymentInProgress; one that succeeded meanwhile
    has switched the plan, which the new quote then no longer matches."""
    for invoice in await _open_upgrades(account_id):
        if invoice.active_payment_id is None:
            await _void_unclaimed(invoice, ctx.clock.now())
            continue
        await _release(ctx, invoice)


async def _void_unclaimed(invoice: Invoice, now: datetime) -> None:
    """An upgrade invoice left open with no attempt on it is voided (its claim and its
    first payment commit together, so only a released attempt leaves one)."""
    async with in_transaction():
        await void_upgrade_invoice(invoice.id, invoice.account_id, now)


async def release_abandoned_upgrades(ctx: ServiceContext, *, limit: int = 50) -> int:
    """Worker step: cancel upgrades whose 3-D Secure was never finished, so no open
    balance stays behind. Returns how many were released."""
    cutoff = ctx.clock.now() - ABANDONED_AFTER
    released = 0
    for invoice in (await _open_upgrades())[:limit]:
        if invoice.issued_at is None or invoice.issued_at > cutoff:
            continue
        payment = (
            await Payment.get_or_none(id=invoice.active_payment_id)
            if invoice.active_payment_id
            else None
        )
        if payment is not None and payment.status is not PaymentStatus.REQUIRES_ACTION:
            continue  # PENDING / PROCESSING: the reconciler settles those
        try:
            if payment is None:
                await _void_unclaimed(invoice, ctx.clock.now())
            else:
                await _release(ctx, invoice)
        except BillingError as exc:
            log.info("upgrade not released", extra={"invoice_id": invoice.id, "code": exc.code})
            continue
        released += 1
    return released
