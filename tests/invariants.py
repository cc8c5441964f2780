"""Ledger invariants, checked after every test that touched the database.

Whatever a test did, the books must still balance: money recorded as paid is
backed by succeeded payments, never more than billed, and every account with
usable cards has exactly one default.
"""

from __future__ import annotations

from collections import defaultdict

from models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentMethodStatus,
    PaymentStatus,
)


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
    return problems
