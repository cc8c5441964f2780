"""The billing history connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphql import FieldNode, FragmentSpreadNode

from models import InvoiceStatus as InvoiceStatusModel
from resolvers.context import Info
from resolvers.errors import raise_top_level
from resolvers.invoice_pages import page_key
from services.errors import BillingError
from services.invoices import list_invoices

if TYPE_CHECKING:
    from schema.types.common import Money
    from schema.types.invoice import Invoice, InvoiceConnection


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
    nodes = [Invoice.from_model(invoice) for invoice in page.invoices]
    if nodes:
        await _read_ahead(info, nodes, _selected_names(info))
    edges = [
        InvoiceEdge(cursor=cursor, node=node)
        for cursor, node in zip(page.cursors, nodes, strict=True)
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


_SELECTED_MAX = 256
# Per field node of a cached document: a partner page asks the same field once per
# account, and Strawberry's `selected_fields` converts the whole subtree on every call.
_selected: dict[int, tuple[FieldNode, frozenset[str]]] = {}


def _selected_names(info: Info) -> frozenset[str]:
    """Every field name selected below this field (fragments included), at any depth."""
    raw = info._raw_info
    node = raw.field_nodes[0]
    hit = _selected.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    names: set[str] = set()
    _collect_names(raw.field_nodes, raw.fragments, names, set())
    if len(_selected) >= _SELECTED_MAX:
        _selected.clear()
    _selected[id(node)] = (node, frozenset(names))  # the node is held: its id stays its own
    return frozenset(names)


def _collect_names(
    selections: Sequence[Any], fragments: dict[str, Any], names: set[str], seen: set[str]
) -> None:
    for selection in selections:
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None or selection.name.value in seen:
                continue
            seen.add(selection.name.value)
            selection = fragment
        elif isinstance(selection, FieldNode):
            names.add(selection.name.value)
        children = selection.selection_set
        if children is not None:
            _collect_names(children.selections, fragments, names, seen)


async def _read_ahead(info: Info, nodes: list[Invoice], wanted: frozenset[str]) -> None:
    """Lines, payments and their cards for every invoice of the page at once (the same
    batched statements as field by field), so `lines`, `payments` and
    `payments.paymentMethod` answer without one awaitable per invoice or payment: the
    executor's per-field cost, not SQL, is what this saves. Only what is selected."""
    from schema.types.invoice import InvoiceLine, Payment
    from schema.types.payment_method import PaymentMethod

    loaders = info.context.loaders
    ids = [node.model.id for node in nodes]
    if "lines" in wanted:
        for node, rows in zip(nodes, await loaders.lines_by_invoice.load_many(ids), strict=True):
            currency = node.model.currency
            node.prefetched_lines = [InvoiceLine.from_model(row, currency) for row in rows]
    if "payments" not in wanted:
        return
    grouped = await loaders.payments_by_invoice.load_many(ids)
    payments = []
    for node, rows in zip(nodes, grouped, strict=True):
        node.prefetched_payments = [Payment.from_model(row) for row in rows]
        payments += node.prefetched_payments
    if "paymentMethod" not in wanted:
        return
    card_ids = sorted({p.model.payment_method_id for p in payments if p.model.payment_method_id})
    cards = dict(zip(card_ids, await loaders.payment_method_by_id.load_many(card_ids), strict=True))
    for payment in payments:
        card = cards.get(payment.model.payment_method_id or 0)
        payment.prefetched_method = None if card is None else PaymentMethod.from_model(card)


async def outstanding_balance(info: Info, account_id: int, currency: str) -> Money:
    """Sum due on open invoices, batched across the accounts of a page."""
    from schema.types.common import Money

    due = await info.context.loaders.outstanding_by_account.load(account_id)
    return Money.of(due, currency)
