"""What a document shows, as plain frozen dataclasses.

These cross the process boundary to the render workers (pickled), so they hold
only strings, numbers and datetimes: no ORM rows, no open files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

PaperSize = Literal["A4", "Letter"]


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    RECEIPT = "receipt"


@dataclass(frozen=True)
class Party:
    """A seller or a customer as printed: name, address lines, contact, tax ID."""

    name: str
    address_lines: tuple[str, ...] = ()
    email: str | None = None
    tax_id: str | None = None


@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit_amount: int  # minor units
    amount: int


@dataclass(frozen=True)
class InvoiceContent:
    number: str
    status: str  # InvoiceStatus value: OPEN, PAID, VOID, UNCOLLECTIBLE
    currency: str
    customer: Party
    period_start: datetime
    period_end: datetime
    issued_at: datetime | None
    due_at: datetime | None
    paid_at: datetime | None
    subtotal: int
    tax: int
    total: int
    amount_paid: int
    amount_due: int
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Card:
    brand: str  # provider's brand code: visa, mastercard, amex, ...
    last4: str


@dataclass(frozen=True)
class ReceiptContent:
    number: str
    invoice: InvoiceContent
    paid_at: datetime
    amount: int
    currency: str
    card: Card | None


@dataclass(frozen=True)
class Logo:
    data: bytes
    media_type: str  # image/png, image/jpeg, image/svg+xml


@dataclass(frozen=True)
class RenderOptions:
    """Everything about a document that comes from settings, not from the invoice."""

    seller: Party
    paper: PaperSize = "A4"
    locale: str = "en_US"
    logo: Logo | None = None


@dataclass(frozen=True)
class RenderJob:
    kind: DocumentKind
    content: InvoiceContent | ReceiptContent
    options: RenderOptions
