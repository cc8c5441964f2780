"""Signed, expiring download links: `/documents/invoices/{id}.pdf?sig=...`.

The link is the credential. Whoever could read the invoice through GraphQL got it
from `Invoice.pdfUrl`; the download itself carries no API key (it opens in a new
browser tab). The signature covers the document kind and the invoice id, and its
timestamp comes from the injected clock, so a link for one document never opens
another and an old one stops working after `lifetime_seconds`.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, TimestampSigner

from services.clock import Clock
from services.documents.content import DocumentKind
from services.errors import PermissionDenied

_SALT = "billing-gateway.document-link"
_PATHS = {DocumentKind.INVOICE: "invoices", DocumentKind.RECEIPT: "receipts"}


class InvalidDocumentLink(PermissionDenied):
    default_message = "This link is invalid or has expired."


class _ClockSigner(TimestampSigner):
    """itsdangerous' timestamp signer, reading the injectable clock instead of time.time()."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock.now().timestamp())


class DocumentLinks:
    """Mints and checks links. `invoice_url` / `receipt_url` are what GraphQL hands out."""

    def __init__(self, secret: str | bytes, public_url: str, lifetime_seconds: int, clock: Clock):
        if not secret:
            raise ValueError("document links need a secret")
        self._signer = _ClockSigner(secret, salt=_SALT, clock=clock)
        self._base = public_url.rstrip("/")
        self.lifetime_seconds = lifetime_seconds

    @staticmethod
    def path(kind: DocumentKind, invoice_id: int) -> str:
        return f"/documents/{_PATHS[kind]}/{invoice_id}.pdf"

    def sign(self, kind: DocumentKind, invoice_id: int) -> str:
        """The `sig` parameter: timestamp and signature, without the value they cover."""
        value = f"{kind.value}/{invoice_id}"
        signed = self._signer.sign(value).decode()
        return signed[len(value) + 1 :]

    def url(self, kind: DocumentKind, invoice_id: int) -> str:
        return f"{self._base}{self.path(kind, invoice_id)}?sig={self.sign(kind, invoice_id)}"

    def invoice_url(self, invoice_id: int) -> str:
        return self.url(DocumentKind.INVOICE, invoice_id)

    def receipt_url(self, invoice_id: int) -> str:
        return self.url(DocumentKind.RECEIPT, invoice_id)

    def verify(self, kind: DocumentKind, invoice_id: int, sig: str | None) -> int:
        """Seconds the link stays valid; raises InvalidDocumentLink (a 403) otherwise."""
        if not sig or len(sig) > 200:
            raise InvalidDocumentLink()
        try:
            _, signed_at = self._signer.unsign(
                f"{kind.value}/{invoice_id}.{sig}",
                max_age=self.lifetime_seconds,
                return_timestamp=True,
            )
        except BadSignature as exc:  # tampered, another document's, or expired
            raise InvalidDocumentLink() from exc
        age = self._signer.get_timestamp() - int(signed_at.timestamp())
        return max(self.lifetime_seconds - age, 0)
