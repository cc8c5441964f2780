"""Reading the billing history, and issuing invoices (numbered, snapshotted, immutable)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import (
    Account,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
    Plan,
    Subscription,
)
from models.events import BillingEventType as EV
from services.billing_info import billing_snapshot
from services.errors import InvalidInput
from services.events import log as events
from services.money import Money

MAX_PAGE = 100
DEFAULT_PAGE = 20
#: Customers see issued invoices; drafts only when asked for by status.
DEFAULT_STATUSES = (
    InvoiceStatus.OPEN,
    InvoiceStatus.PAID,
    InvoiceStatus.VOID,
    InvoiceStatus.UNCOLLECTIBLE,
)


@dataclass(frozen=True)
class InvoicePage:
    invoices: list[Invoice]
    cursors: list[str]
    has_next_page: bool
    total_count: int
    #: True when the page was asked for `after` a cursor and rows precede that cursor.
    has_previous_page: bool = False


def encode_cursor(invoice: Invoice) -> str:
    raw = f"{invoice.period_start.isoformat()}|{invoice.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        start, pk = datetime.fromisoformat(stamp), int(ident)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("Invalid cursor.", field="after") from exc
    # Cursors are ours: an aware timestamp and an id that fits the 32-bit key column.
    if start.tzinfo is None or not 0 < pk < 2**31:
        raise InvalidInput("Invalid cursor.", field="after")
    return start, pk


async def list_invoices(
    account_id: int,
    *,
    first: int | None = None,
    after: str | None = None,
    statuses: list[InvoiceStatus] | None = None,
) -> InvoicePage:
    """Newest billing period first; keyset pagination so pages stay stable as bills arrive."""
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE}.", field="first")
    query = Invoice.filter(account_id=account_id, status__in=list(statuses or DEFAULT_STATUSES))
    total = await query.count()
    has_previous_page = False
    if after:
        start, ident = _decode_cursor(after)
        older = Q(period_start__lt=start) | Q(period_start=start, id__lt=ident)
        has_previous_page = await query.filter(~older).exists()
        query = query.filter(older)
    rows = await query.order_by("-period_start", "-id").limit(size + 1)
    page = rows[:size]
    return InvoicePage(
        invoices=page,
        cursors=[encode_cursor(i) for i in page],
        has_next_page=len(rows) > size,
        total_count=total,
        has_previous_page=has_previous_page,
    )


async def outstanding_balance(account: Account) -> Money:
    open_invoices = await Invoice.filter(account_id=account.id, status=InvoiceStatus.OPEN)
    return Money(sum(i.amount_due for i in open_invoices), account.currency)


async def next_invoice_number(year: int) -> str:
    """Inside a transaction: the next gapless number of the year (the row lock serialises)."""
    # INSERT ... ON CONFLICT DO NOTHING: two first issuers of a year both succeed
    # without a unique-key error (which would abort the caller's transaction).
    await InvoiceSequence.bulk_create(
        [InvoiceSequence(year=year, last_value=0)], ignore_conflicts=True
    )
    seq = await InvoiceSequence.select_for_update().get(year=year)
    seq.last_value += 1
    await seq.save(update_fields=["last_value"])
    return f"INV-{year}-{seq.last_value:06d}"


async def issue_invoice(invoice: Invoice, now: datetime, *, due_in: timedelta) -> Invoice:
    """DRAFT → OPEN: number it and freeze the account's billing info into it."""
    async with in_transaction():
        draft = await Invoice.select_for_update().get(id=invoice.id)
        if draft.status is not InvoiceStatus.DRAFT:
            return draft
        account = await Account.get(id=draft.account_id)
        draft.number = await next_invoice_number(now.year)
        draft.billing_snapshot = billing_snapshot(account)
        draft.status = InvoiceStatus.OPEN
        draft.issued_at = now
        draft.due_at = now + due_in
        await draft.save()
        await events.append(
            EV.INVOICE_CREATED, account_id=draft.account_id, invoice_id=draft.id, now=now
        )
        return draft


async def issue_plan_invoice(
    subscription: Subscription,
    plan: Plan,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    due_in: timedelta,
    collect_at: datetime | None = None,
    extra_lines: Sequence[tuple[str, int]] = (),
) -> Invoice:
    """One billing period of a plan, issued: a line for the plan's price, then
    `extra_lines` ((description, amount), e.g. the closing period's overage) at
    positions 1, 2, ...

    `collect_at` puts it in the worker's collection queue (renewals); without it the
    customer pays it from the portal.
    """
    invoice = await Invoice.create(
        account_id=subscription.account_id,
        subscription_id=subscription.id,
        currency=plan.currency,
        period_start=start,
        period_end=end,
        subtotal=plan.price_amount + sum(amount for _, amount in extra_lines),
        total=plan.price_amount + sum(amount for _, amount in extra_lines),
        auto_collect=collect_at is not None,
        created_at=now,
    )
    await InvoiceLine.create(
        invoice=invoice,
        description=f"{plan.name}, {start:%b %d, %Y} to {end:%b %d, %Y}",
        quantity=1,
        unit_amount=plan.price_amount,
        amount=plan.price_amount,
    )
    for position, (description, amount) in enumerate(extra_lines, start=1):
        await InvoiceLine.create(
            invoice=invoice,
            position=position,
            description=description,
            quantity=1,
            unit_amount=amount,
            amount=amount,
        )
    issued = await issue_invoice(invoice, now, due_in=due_in)
    if collect_at is not None:
        await Invoice.filter(id=issued.id, status=InvoiceStatus.OPEN).update(
            next_attempt_at=collect_at
        )
        issued.next_attempt_at = collect_at
    return issued
