"""Per-request DataLoaders: each relation costs one query per request, not one per parent.

Built fresh in every request's context (never module-level), so nothing is cached
across requests or callers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import partial
from typing import Any, Generic, TypeVar

from strawberry.dataloader import DataLoader
from tortoise import connections

from models import (
    Account,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentMethodStatus,
    Plan,
    Subscription,
)
from resolvers.invoice_pages import first_pages
from resolvers.rows import models_from_rows
from services.observability import observe_batch
from services.usage.rating import Allowance
from services.usage.reading import allowances_by_plan, usage_by_accounts
from services.usage.sql import Dialect

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


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
    """Plain SQL into models (resolvers/rows.py): SQLite's datetimes parsed once."""
    grouped: dict[int, list[Payment]] = defaultdict(list)
    if not invoice_ids:
        return []
    conn = connections.get("default")
    dialect = Dialect.of(conn)
    marks = ", ".join(dialect.p(n + 1) for n in range(len(invoice_ids)))
    # only placeholders are interpolated; the values go as parameters
    sql = f'SELECT * FROM "payment" WHERE "invoice_id" IN ({marks}) ORDER BY "created_at", "id"'  # noqa: S608
    _, rows = await conn.execute_query(sql, list(invoice_ids))
    for payment in models_from_rows(Payment, rows):
        grouped[payment.invoice_id].append(payment)
    return [grouped[i] for i in invoice_ids]


async def _outstanding(account_ids: Sequence[int]) -> list[int]:
    """Sum due on OPEN invoices per account (currency: the account's, as in the service)."""
    due: dict[int, int] = defaultdict(int)
    rows = await Invoice.filter(
        account_id__in=list(account_ids), status=InvoiceStatus.OPEN
    ).values_list("account_id", "total", "amount_paid")
    for account_id, total, paid in rows:
        due[account_id] += max(int(total) - int(paid), 0)
    return [due[i] for i in account_ids]


async def _invoices(ids: Sequence[int]) -> list[Invoice | None]:
    rows = {i.id: i for i in await Invoice.filter(id__in=list(ids))}
    return [rows.get(i) for i in ids]


async def _allowances(plan_ids: Sequence[int]) -> list[list[Allowance]]:
    found = await allowances_by_plan(plan_ids)
    return [found.get(i, []) for i in plan_ids]


def _loader(name: str, load: Callable[[Sequence[K]], Awaitable[Sequence[V]]]) -> DataLoader[K, V]:
    """A DataLoader whose batch sizes show on /metrics (dataloader_batch_size{loader})."""

    async def batch(keys: list[K]) -> Sequence[V]:
        observe_batch(name, len(keys))
        return await load(keys)

    return DataLoader(load_fn=batch)


class _OnFirstUse(Generic[K, V]):
    """A loader built when a request first reads it: most requests read a few of them,
    and building all twelve cost about a tenth of a small query's CPU."""

    def __init__(self, load: Callable[..., Awaitable[Sequence[V]]], *, method: bool = False):
        self.load = load
        self.method = method  # `load` is a Loaders method: bind it to the instance
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> DataLoader[K, V]:
        load = partial(self.load, obj) if self.method else self.load
        loader: DataLoader[K, V] = _loader(self.name, load)
        obj.__dict__[self.name] = loader  # later reads find the instance attribute
        return loader


class Loaders:
    account_by_id: _OnFirstUse[int, Account | None] = _OnFirstUse(_accounts)
    plan_by_id: _OnFirstUse[int, Plan | None] = _OnFirstUse(_plans)
    subscription_by_account: _OnFirstUse[int, Subscription | None] = _OnFirstUse(_subscriptions)
    payment_methods_by_account: _OnFirstUse[int, list[PaymentMethod]] = _OnFirstUse(
        lambda self, ids: self._payment_methods(ids), method=True
    )
    payment_method_by_id: _OnFirstUse[int, PaymentMethod | None] = _OnFirstUse(
        _payment_methods_by_id
    )
    lines_by_invoice: _OnFirstUse[int, list[InvoiceLine]] = _OnFirstUse(_lines)
    payments_by_invoice: _OnFirstUse[int, list[Payment]] = _OnFirstUse(_payments)
    invoice_by_id: _OnFirstUse[int, Invoice | None] = _OnFirstUse(_invoices)
    outstanding_by_account: _OnFirstUse[int, int] = _OnFirstUse(_outstanding)
    #: Usage this period per account, rated from the per-period totals (never events).
    usage_by_account: _OnFirstUse[int, Any] = _OnFirstUse(usage_by_accounts)
    allowances_by_plan: _OnFirstUse[int, list[Allowance]] = _OnFirstUse(_allowances)
    #: First pages of billing history (no cursor), keyed by `invoice_pages.page_key`.
    first_invoice_page: _OnFirstUse[Any, Any] = _OnFirstUse(first_pages)

    async def _payment_methods(self, account_ids: Sequence[int]) -> list[list[PaymentMethod]]:
        """Cards per account; each also primes payment_method_by_id, which payments read."""
        grouped = await _payment_methods(account_ids)
        for cards in grouped:
            for pm in cards:
                self.payment_method_by_id.prime(pm.id, pm)
        return grouped
