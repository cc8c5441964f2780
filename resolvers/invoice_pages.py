"""The first page of billing history for many accounts in one statement.

A partner reads `invoices(first: 12)` on a hundred accounts: one keyset query per
account would make the statement count grow with the page of accounts. A window
function numbers each account's invoices newest first; the outer query keeps the
first `size + 1` of each (the extra row answers `hasNextPage`), and a windowed
COUNT carries the account's total, so one statement answers the whole page.

Only first pages batch: a page after a cursor is one account's keyset query
(`services.invoices.list_invoices`), which a client walks one account at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pypika_tortoise.analytics import Count, RowNumber
from pypika_tortoise.enums import Order
from pypika_tortoise.queries import Table
from tortoise import connections

from models import Invoice, InvoiceStatus
from resolvers.rows import models_from_rows
from services.errors import InvalidInput
from services.invoices import (
    DEFAULT_PAGE,
    DEFAULT_STATUSES,
    MAX_PAGE,
    InvoicePage,
    encode_cursor,
)

#: (account id, page size, statuses): one connection's arguments, the loader's key.
PageKey = tuple[int, int, tuple[InvoiceStatus, ...]]


def page_key(
    account_id: int, first: int | None, statuses: Sequence[InvoiceStatus] | None
) -> PageKey:
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE}.", field="first")
    chosen = tuple(sorted(set(statuses or DEFAULT_STATUSES), key=lambda s: s.value))
    return account_id, size, chosen


async def _fetch(
    account_ids: Sequence[int], size: int, statuses: tuple[InvoiceStatus, ...]
) -> dict[int, InvoicePage]:
    conn = connections.get("default")
    invoice = Table(Invoice._meta.db_table)
    newest_first = (
        RowNumber()
        .over(invoice.account_id)
        .orderby(invoice.period_start, order=Order.desc)
        .orderby(invoice.id, order=Order.desc)
    )
    numbered = (
        conn.query_class.from_(invoice)
        .select(
            invoice.star,
            newest_first.as_("page_rn"),
            Count(invoice.id).over(invoice.account_id).as_("page_total"),
        )
        .where(invoice.account_id.isin(list(account_ids)))
        .where(invoice.status.isin([s.value for s in statuses]))
    )
    outer = (
        conn.query_class.from_(numbered)
        .select("*")
        .where(numbered.page_rn <= size + 1)
        .orderby(numbered.account_id)
        .orderby(numbered.page_rn)
    )
    sql, values = outer.get_parameterized_sql()
    _, rows = await conn.execute_query(sql, values)
    found: dict[int, list[Invoice]] = defaultdict(list)
    totals: dict[int, int] = {}
    records: list[dict[str, Any]] = []
    for row in rows:
        record: dict[str, Any] = dict(row)
        totals[record["account_id"]] = int(record.pop("page_total"))
        record.pop("page_rn")
        records.append(record)
    for inv in models_from_rows(Invoice, records):
        found[inv.account_id].append(inv)
    pages = {}
    for account_id in account_ids:
        rows_of = found.get(account_id, [])
        page = rows_of[:size]
        pages[account_id] = InvoicePage(
            invoices=page,
            cursors=[encode_cursor(i) for i in page],
            has_next_page=len(rows_of) > size,
            total_count=totals.get(account_id, 0),
        )
    return pages


async def first_pages(keys: Sequence[PageKey]) -> list[InvoicePage]:
    """DataLoader batch function: one statement per distinct (size, statuses)."""
    by_shape: dict[tuple[int, tuple[InvoiceStatus, ...]], list[int]] = defaultdict(list)
    for account_id, size, statuses in keys:
        by_shape[(size, statuses)].append(account_id)
    results: dict[PageKey, InvoicePage] = {}
    for (size, statuses), account_ids in by_shape.items():
        pages = await _fetch(account_ids, size, statuses)
        for account_id, page in pages.items():
            results[(account_id, size, statuses)] = page
    return [results[key] for key in keys]
