"""GET /documents/invoices/{id}.pdf and /documents/receipts/{id}.pdf.

The signed link is checked first: a missing, tampered, expired or other document's
signature answers 403 before the database or the renderer is touched. Then the
document rules (no draft invoice, no receipt before payment) answer 404, and the
stored PDF (rendered on first request) is served inline.
"""

from __future__ import annotations

import logging
import mimetypes
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from gateway import metrics
from gateway.ratelimit import throttle_failed_auth
from gateway.settings import Settings
from services.clock import Clock
from services.documents.content import DocumentKind, Logo, Party, RenderJob, RenderOptions
from services.documents.links import DocumentLinks, InvalidDocumentLink
from services.documents.pool import Renderer
from services.documents.store import DocumentStore
from services.errors import NotFound

log = logging.getLogger("gateway.documents")


def render_options(settings: Settings) -> RenderOptions:
    """The seller block, paper and locale from settings; the logo file is read once here."""
    logo = None
    if settings.seller_logo_path is not None:
        media_type = mimetypes.guess_type(settings.seller_logo_path.name)[0]
        if media_type not in {"image/png", "image/jpeg", "image/svg+xml"}:
            raise ValueError("BILLING_SELLER_LOGO_PATH must be a .png, .jpg or .svg file")
        logo = Logo(settings.seller_logo_path.read_bytes(), media_type)
    address = tuple(line.strip() for line in settings.seller_address.splitlines() if line.strip())
    return RenderOptions(
        seller=Party(
            name=settings.seller_name,
            address_lines=address,
            email=settings.seller_email,
            tax_id=settings.seller_tax_id,
        ),
        paper=settings.document_paper_size,
        locale=settings.document_locale,
        logo=logo,
    )


def document_links(settings: Settings, clock: Clock) -> DocumentLinks | None:
    """None in production without BILLING_DOCUMENT_LINK_SECRET (and the lifespan refuses
    to start): no links rather than links signed with a guessable key."""
    try:
        key = settings.document_link_key()
    except ValueError:
        return None
    return DocumentLinks(key, settings.public_url, settings.document_link_lifetime_seconds, clock)


def check_document_settings(settings: Settings) -> None:
    """Called at startup: fails fast on a missing production secret or a bad logo path."""
    settings.document_link_key()
    render_options(settings)


def install_documents(app: Starlette, settings: Settings, clock: Clock, renderer: Renderer) -> None:
    """`app.state.documents` mints the links GraphQL hands out; the store serves them."""
    app.state.documents = document_links(settings, clock)
    try:
        options = render_options(settings)
    except (OSError, ValueError):
        log.exception("document settings are invalid; the lifespan will refuse to start")
        options = RenderOptions(seller=Party(name=settings.seller_name))
    app.state.document_store = DocumentStore(TimedRenderer(renderer), options, clock)


async def invoice_pdf(request: Request) -> Response:
    return await _serve(request, DocumentKind.INVOICE)


async def receipt_pdf(request: Request) -> Response:
    return await _serve(request, DocumentKind.RECEIPT)


async def _serve(request: Request, kind: DocumentKind) -> Response:
    links: DocumentLinks | None = request.app.state.documents
    invoice_id: int = request.path_params["invoice_id"]
    if links is None:
        return PlainTextResponse("Documents are not configured.", status_code=503)
    try:
        remaining = links.verify(kind, invoice_id, request.query_params.get("sig"))
    except InvalidDocumentLink as exc:
        # A bad link is a failed credential: throttled per address like a wrong API key.
        return await throttle_failed_auth(request) or PlainTextResponse(
            exc.message, status_code=403
        )
    store: DocumentStore = request.app.state.document_store
    try:
        document = await store.get(invoice_id, kind)
    except NotFound as exc:
        return PlainTextResponse(exc.message, status_code=404)
    etag = f'"{document.sha256}"'
    headers = {
        "Content-Disposition": f'inline; filename="{document.filename}"',
        # The bytes at this URL never change; a browser may keep them while the link lives.
        "Cache-Control": f"private, max-age={remaining}",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(document.content, media_type="application/pdf", headers=headers)


def document_routes() -> list[Route]:
    return [
        Route("/documents/invoices/{invoice_id:int}.pdf", invoice_pdf, methods=["GET"]),
        Route("/documents/receipts/{invoice_id:int}.pdf", receipt_pdf, methods=["GET"]),
    ]


class TimedRenderer:
    """Feeds the PDF render-time histogram; services stay free of metrics code."""

    def __init__(self, inner: Renderer) -> None:
        self._inner = inner

    async def render(self, job: RenderJob) -> bytes:
        started = time.perf_counter()
        try:
            return await self._inner.render(job)
        finally:
            metrics.observe_render(job.kind.value, time.perf_counter() - started)
