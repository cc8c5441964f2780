"""Get-or-render-and-store: each document is rendered once and kept in the `document` table.

An issued invoice never changes, except for its status (OPEN → PAID | VOID |
UNCOLLECTIBLE), which the PDF shows (stamp, amount paid, amount due). So the stored
key is (invoice, kind, version) where version is `TEMPLATE_VERSION` plus, for an
invoice, its status: a paid invoice gets a "PAID" PDF once, and billing-info changes
never reach a stored document (it is rendered from the invoice's snapshot anyway).

Concurrent first requests for one document: an asyncio lock per key makes one of
them render while the others wait and then read the stored row; across gateway
processes the unique key (invoice, kind, template_version) lets exactly one insert
win, and the loser serves the winner's copy.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Account, Document, Invoice, InvoiceStatus
from services.clock import Clock
from services.documents.content import DocumentKind, RenderJob, RenderOptions
from services.documents.pool import Renderer
from services.documents.sources import invoice_content, receipt_content, receipt_number
from services.errors import NotFound

#: Bump when a template or the stylesheet changes what a document shows: documents
#: stored under the old version are then rendered again on their next download.
TEMPLATE_VERSION = "2026.11.1"

_Key = tuple[int, DocumentKind, str]


@dataclass(frozen=True)
class StoredDocument:
    invoice_id: int
    kind: DocumentKind
    filename: str
    content: bytes
    sha256: str
    created_at: datetime


def storage_version(kind: DocumentKind, invoice: Invoice) -> str:
    """The `template_version` column: the template version, and the status an invoice shows."""
    if kind is DocumentKind.INVOICE:
        return f"{TEMPLATE_VERSION}+{invoice.status.value.lower()}"
    return TEMPLATE_VERSION


def filename(kind: DocumentKind, invoice: Invoice) -> str:
    number = invoice.number or str(invoice.id)
    if kind is DocumentKind.RECEIPT:
        return f"receipt-{receipt_number(number)}.pdf"
    return f"invoice-{number}.pdf"


async def document_invoice(invoice_id: int, kind: DocumentKind) -> Invoice:
    """The invoice, if it has this document: never a draft; a receipt only once paid."""
    invoice = await Invoice.get_or_none(id=invoice_id)
    if invoice is None or invoice.status is InvoiceStatus.DRAFT:
        raise NotFound("Invoice not found.")
    if kind is DocumentKind.RECEIPT and invoice.status is not InvoiceStatus.PAID:
        raise NotFound("This invoice is not paid: it has no receipt.")
    return invoice


class DocumentStore:
    def __init__(self, renderer: Renderer, options: RenderOptions, clock: Clock) -> None:
        self.renderer = renderer
        self.options = options
        self.clock = clock
        self._locks: dict[_Key, asyncio.Lock] = {}
        self._holders: dict[_Key, int] = {}

    async def get(self, invoice_id: int, kind: DocumentKind) -> StoredDocument:
        """The stored document, rendered and stored first if needed. NotFound if none."""
        invoice = await document_invoice(invoice_id, kind)
        key = (invoice.id, kind, storage_version(kind, invoice))
        row = await self._stored(key)
        if row is None:
            async with self._lock(key):
                row = await self._stored(key)  # the request we waited for may have stored it
                if row is None:
                    row = await self._render_and_insert(invoice, key)
        return self._document(invoice, kind, row)

    async def is_stored(self, invoice_id: int, kind: DocumentKind) -> bool:
        invoice = await document_invoice(invoice_id, kind)
        key = (invoice.id, kind, storage_version(kind, invoice))
        return await Document.filter(
            invoice_id=key[0], kind=key[1].value, template_version=key[2]
        ).exists()

    async def rerender(self, invoice_id: int, kind: DocumentKind) -> StoredDocument:
        """Render again and replace the stored copy (backfills after a settings change)."""
        invoice = await document_invoice(invoice_id, kind)
        key = (invoice.id, kind, storage_version(kind, invoice))
        async with self._lock(key):
            content = await self._render(invoice, kind)
            async with in_transaction():
                await Document.filter(
                    invoice_id=key[0], kind=key[1].value, template_version=key[2]
                ).delete()
                row = await self._insert(key, content)
        return self._document(invoice, kind, row)

    async def render_job(self, invoice: Invoice, kind: DocumentKind) -> RenderJob:
        locale = self.options.locale
        if kind is DocumentKind.RECEIPT:
            return RenderJob(kind, await receipt_content(invoice, locale), self.options)
        return RenderJob(kind, await invoice_content(invoice, locale), self.options)

    async def _render(self, invoice: Invoice, kind: DocumentKind) -> bytes:
        return await self.renderer.render(await self.render_job(invoice, kind))

    async def _render_and_insert(self, invoice: Invoice, key: _Key) -> Document:
        content = await self._render(invoice, key[1])
        try:
            return await self._insert(key, content)
        except IntegrityError:
            # Another gateway process stored it while we rendered: serve that copy.
            row = await self._stored(key)
            if row is None:
                raise
            return row

    async def _insert(self, key: _Key, content: bytes) -> Document:
        return await Document.create(
            invoice_id=key[0],
            kind=key[1].value,
            template_version=key[2],
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
            created_at=self.clock.now(),
        )

    @staticmethod
    async def _stored(key: _Key) -> Document | None:
        return await Document.filter(
            invoice_id=key[0], kind=key[1].value, template_version=key[2]
        ).first()

    @staticmethod
    def _document(invoice: Invoice, kind: DocumentKind, row: Document) -> StoredDocument:
        return StoredDocument(
            invoice_id=invoice.id,
            kind=kind,
            filename=filename(kind, invoice),
            content=bytes(row.content),
            sha256=row.sha256,
            created_at=row.created_at,
        )

    @asynccontextmanager
    async def _lock(self, key: _Key) -> AsyncIterator[None]:
        """One lock per key while anyone holds or waits for it; dropped after."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._holders[key] -= 1
            if self._holders[key] == 0:
                del self._holders[key], self._locks[key]


async def backfill_targets(account_email: str | None = None) -> list[tuple[int, DocumentKind]]:
    """Every document that exists: each issued invoice's, and each paid one's receipt."""
    invoices = Invoice.exclude(status=InvoiceStatus.DRAFT)
    if account_email is not None:
        account = await Account.get_or_none(email=account_email)
        if account is None:
            raise NotFound(f"No account with email {account_email}.")
        invoices = invoices.filter(account_id=account.id)
    targets: list[tuple[int, DocumentKind]] = []
    for invoice_id, status in await invoices.order_by("id").values_list("id", "status"):
        targets.append((invoice_id, DocumentKind.INVOICE))
        if status == InvoiceStatus.PAID:
            targets.append((invoice_id, DocumentKind.RECEIPT))
    return targets
