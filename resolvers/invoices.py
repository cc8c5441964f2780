"""The billing history connection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models import InvoiceStatus as InvoiceStatusModel
from resolvers.context import Info
from resolvers.errors import raise_top_level
from resolvers.invoice_pages import page_key
from services.errors import BillingError
from services.invoices import list_invoices

if TYPE_CHECKING:
    from schema.types.common import Money
    from schema.types.invoice import InvoiceConnection


async def invoice_connection(
    info: Info,
    account_id: int,
    *,
    first: int | None,
    after: str | None,
    status: list[InvoiceStatusModel] | None,
) -> InvoiceConnection:
    from schema.types.common import PageInfo
    from schema.types.invoice import Invoice, InvoiceConnection, InvoiceEdge

    try:
        if after:
            page = await list_invoices(account_id, first=first, after=after, statuses=status)
        else:  # first pages of many accounts batch into one statement
            key = page_key(account_id, first, status)
            page = await info.context.loaders.first_invoice_page.load(key)
    except BillingError as exc:
        raise_top_level(exc)
    for invoice in page.invoices:
        info.context.loaders.invoice_by_id.prime(invoice.id, invoice)
    edges = [
        InvoiceEdge(cursor=cursor, node=Invoice.from_model(invoice))
        for cursor, invoice in zip(page.cursors, page.invoices, strict=True)
    ]
    return InvoiceConnection(
        edges=edges,
        page_info=PageInfo.of(
            page.cursors,
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
        ),
        total_count=page.total_count,
    )


async def outstanding_balance(info: Info, account_id: int, currency: str) -> Money:
    """Sum due on open invoices, batched across the accounts of a page."""
    from schema.types.common import Money

    due = await info.context.loaders.outstanding_by_account.load(account_id)
    return Money.of(due, currency)
