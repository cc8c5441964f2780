"""Ledger invariants, checked after every test that touched the database.

Whatever a test did, the books must still balance: money recorded as paid is
backed by succeeded payments, never more than billed, and every account with
usable cards has exactly one default. A plan change's invoice is its quote line for
line, its credit never more than the credited plan's price, and its plan switched if
and only if it was paid.
"""

from __future__ import annotations

from collections import defaultdict

from models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentMethodStatus,
    PaymentStatus,
    Plan,
    PlanChangeQuote,
    PlanChangeTiming,
)
from tests.usage_invariants import usage_violations


async def ledger_violations() -> list[str]:
    problems: list[str] = []
    succeeded: dict[int, int] = defaultdict(int)
    for payment in await Payment.filter(status=PaymentStatus.SUCCEEDED):
        succeeded[payment.invoice_id] += payment.amount
    for invoice in await Invoice.all():
        paid = succeeded.get(invoice.id, 0)
        if paid != invoice.amount_paid:
            problems.append(
                f"invoice {invoice.id}: amount_paid {invoice.amount_paid} != succeeded {paid}"
            )
        if invoice.amount_paid > invoice.total:
            problems.append(f"invoice {invoice.id}: paid {invoice.amount_paid} > total")
        if invoice.status is InvoiceStatus.PAID and paid == 0 and invoice.total > 0:
            problems.append(f"invoice {invoice.id}: PAID without a succeeded payment")
    defaults: dict[int, int] = defaultdict(int)
    active: dict[int, int] = defaultdict(int)
    for pm in await PaymentMethod.exclude(status=PaymentMethodStatus.DELETED):
        if pm.status is PaymentMethodStatus.ACTIVE:
            active[pm.account_id] += 1
        if pm.is_default:
            defaults[pm.account_id] += 1
            if pm.status is not PaymentMethodStatus.ACTIVE:
                problems.append(f"card {pm.id}: default but {pm.status.value}")
    for account_id, count in active.items():
        if defaults.get(account_id, 0) != 1:
            problems.append(
                f"account {account_id}: {defaults.get(account_id, 0)} default cards, {count} active"
            )
    problems.extend(await usage_violations())
    problems.extend(await proration_violations())
    return problems


async def proration_violations() -> list[str]:
    problems: list[str] = []
    prices = {p.id: p.price_amount for p in await Plan.all()}
    for quote in await PlanChangeQuote.filter(used_at__not_isnull=True):
        name = f"quote {quote.id}"
        if quote.timing is PlanChangeTiming.PERIOD_END:
            if quote.invoice_id is not None:
                problems.append(f"{name}: a period-end change issued invoice {quote.invoice_id}")
            continue
        if quote.invoice_id is None:
            problems.append(f"{name}: used for an upgrade without an invoice")
            continue
        invoice = await Invoice.get(id=quote.invoice_id)
        lines = await InvoiceLine.filter(invoice_id=invoice.id).order_by("position", "id")
        if [(x.description, x.amount) for x in lines] != [
            (line["description"], line["amount"]) for line in quote.lines
        ]:
            problems.append(f"{name}: invoice {invoice.id} lines differ from the quote")
        if not invoice.total == quote.amount_due == sum(x.amount for x in lines) >= 0:
            problems.append(f"{name}: invoice total {invoice.total} != quoted {quote.amount_due}")
        credit = -sum(x.amount for x in lines if x.amount < 0)
        if quote.from_plan_id is not None and credit > prices.get(quote.from_plan_id, 0):
            problems.append(f"{name}: credit {credit} exceeds the credited plan's price")
        paid = invoice.status is InvoiceStatus.PAID
        if paid != (quote.applied_at is not None):
            problems.append(
                f"{name}: invoice {invoice.status.value}, applied_at {quote.applied_at}"
            )
        if invoice.status is InvoiceStatus.VOID and invoice.amount_paid:
            problems.append(f"{name}: void invoice {invoice.id} has {invoice.amount_paid} paid")
    return problems
