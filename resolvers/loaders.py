"""Per-request DataLoaders: each relation costs one query per request, not one per parent.

Built fresh in every request's context (never module-level), so nothing is cached
across requests or callers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from models import (
    Account,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentMethod,
    PaymentMethodStatus,
    Plan,
    Subscription,
)


async def _accounts(ids: Sequence[int]) -> list[Account | None]:
    rows = {a.id: a for a in await Account.filter(id__in=list(ids))}
    return [rows.get(i) for i in ids]


async def _plans(ids: Sequence[int]) -> list[Plan | None]:
    rows = {p.id: p for p in await Plan.filter(id__in=list(ids))}
    return [rows.get(i) for i in ids]


async def _subscriptions(account_ids: Sequence[int]) -> list[Subscription | None]:
    rows = {s.account_id: s for s in await Subscription.filter(account_id__in=list(account_ids))}
    return [rows.get(i) for i in account_ids]


async def _payment_methods(account_ids: Sequence[int]) -> list[list[PaymentMethod]]:
    grouped: dict[int, list[PaymentMethod]] = defaultdict(list)
    query = (
        PaymentMethod.filter(account_id__in=list(account_ids))
        .exclude(status=PaymentMethodStatus.DELETED)
        .order_by("created_at", "id")
    )
    for pm in await query:
        grouped[pm.account_id].append(pm)
    return [grouped[i] for i in account_ids]


async def _payment_methods_by_id(ids: Sequence[int]) -> list[PaymentMethod | None]:
    rows = {p.id: p for p in await PaymentMethod.filter(id__in=list(ids))}
    return [rows.get(i) for i in ids]


async def _lines(invoice_ids: Sequence[int]) -> list[list[InvoiceLine]]:
    grouped: dict[int, list[InvoiceLine]] = defaultdict(list)
    query = InvoiceLine.filter(invoice_id__in=list(invoice_ids)).order_by("position", "id")
    for line in await query:
        grouped[line.invoice_id].append(line)
    return [grouped[i] for i in invoice_ids]


async def _payments(invoice_ids: Sequence[int]) -> list[list[Payment]]:
    grouped: dict[int, list[Payment]] = defaultdict(list)
    query = Payment.filter(invoice_id__in=list(invoice_ids)).order_by("created_at", "id")
    for payment in await query:
        grouped[payment.invoice_id].append(payment)
    return [grouped[i] for i in invoice_ids]


async def _invoices(ids: Sequence[int]) -> list[Invoice | None]:
    rows = {i.id: i for i in await Invoice.filter(id__in=list(ids))}
    return [rows.get(i) for i in ids]


class Loaders:
    def __init__(self) -> None:
        self.account_by_id = DataLoader(load_fn=_accounts)
        self.plan_by_id = DataLoader(load_fn=_plans)
        self.subscription_by_account = DataLoader(load_fn=_subscriptions)
        self.payment_methods_by_account = DataLoader(load_fn=_payment_methods)
        self.payment_method_by_id = DataLoader(load_fn=_payment_methods_by_id)
        self.lines_by_invoice = DataLoader(load_fn=_lines)
        self.payments_by_invoice = DataLoader(load_fn=_payments)
        self.invoice_by_id = DataLoader(load_fn=_invoices)
