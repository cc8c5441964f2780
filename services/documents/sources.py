"""Reads an invoice's rows into the plain content its documents show."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from models import Account, Invoice, InvoiceLine, Payment, PaymentMethod, PaymentStatus
from services.addresses import Address
from services.billing_info import billing_info_of, snapshot_to_info
from services.documents.content import Card, InvoiceContent, Line, Party, ReceiptContent

#: Countries that write "City, ST 12345" on one line; elsewhere "12345 City".
_CITY_FIRST = frozenset({"US", "CA", "AU"})
#: Countries whose postcode goes on a line of its own, after the town.
_POSTCODE_LINE = frozenset({"GB", "IE"})


def country_name(code: str, locale: str) -> str:
    try:
        territories = Locale.parse(locale).territories
    except (ValueError, UnknownLocaleError):
        return code
    return str(territories.get(code, code))


def address_lines(address: Address | None, locale: str) -> tuple[str, ...]:
    """A postal address as printed on an envelope (good enough for the common formats)."""
    if address is None:
        return ()
    lines = [address.line1, address.line2]
    city, state, postal = address.city, address.state, address.postal_code
    if address.country in _CITY_FIRST:
        region = " ".join(p for p in (state, postal) if p)
        lines.append(", ".join(p for p in (city, region) if p))
    elif address.country in _POSTCODE_LINE:
        lines += [city, state, postal]
    else:
        lines += [" ".join(p for p in (postal, city) if p), state]
    if address.country:
        lines.append(country_name(address.country, locale))
    return tuple(line for line in lines if line)


def receipt_number(invoice_number: str) -> str:
    """One receipt per paid invoice, numbered after it: INV-2026-000042 → RCPT-2026-000042."""
    return "RCPT-" + invoice_number.removeprefix("INV-")


async def invoice_content(invoice: Invoice, locale: str) -> InvoiceContent:
    if invoice.billing_snapshot is not None:
        info = snapshot_to_info(invoice.billing_snapshot)
    else:  # issued invoices always carry one; kept for rows written by hand
        info = billing_info_of(await Account.get(id=invoice.account_id))
    rows = await InvoiceLine.filter(invoice_id=invoice.id).order_by("position", "id")
    return InvoiceContent(
        number=invoice.number or f"DRAFT-{invoice.id}",
        status=invoice.status.value,
        currency=invoice.currency,
        customer=Party(
            name=info.name or "",
            address_lines=address_lines(info.address, locale),
            email=info.email,
            tax_id=info.tax_id,
        ),
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        issued_at=invoice.issued_at,
        due_at=invoice.due_at,
        paid_at=invoice.paid_at,
        subtotal=int(invoice.subtotal),
        tax=int(invoice.tax),
        total=int(invoice.total),
        amount_paid=int(invoice.amount_paid),
        amount_due=invoice.amount_due,
        lines=tuple(
            Line(
                description=row.description,
                quantity=row.quantity,
                unit_amount=int(row.unit_amount),
                amount=int(row.amount),
            )
            for row in rows
        ),
    )


async def receipt_content(invoice: Invoice, locale: str) -> ReceiptContent:
    """The succeeded payment and its card. The card may be deleted since: it still paid."""
    content = await invoice_content(invoice, locale)
    payment = (
        await Payment.filter(invoice_id=invoice.id, status=PaymentStatus.SUCCEEDED)
        .order_by("-id")
        .first()
    )
    card = None
    if payment is not None and payment.payment_method_id is not None:
        pm = await PaymentMethod.get_or_none(id=payment.payment_method_id)  # DELETED included
        if pm is not None:
            card = Card(brand=pm.brand, last4=pm.last4)
    paid_at = invoice.paid_at or (payment and (payment.settled_at or payment.created_at))
    return ReceiptContent(
        number=receipt_number(content.number),
        invoice=content,
        paid_at=paid_at or invoice.issued_at or invoice.created_at,
        amount=int(payment.amount) if payment is not None else content.amount_paid,
        currency=payment.currency if payment is not None else content.currency,
        card=card,
    )
