"""GET /documents/...pdf behind the signed links from Invoice.pdfUrl / receiptUrl."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from pydantic import SecretStr
from pypdf import PdfReader

from gateway.app import create_app
from gateway.documents import check_document_settings, render_options
from gateway.settings import Settings
from models import Document, Invoice, InvoiceStatus
from services.clock import FixedClock
from services.context import ServiceContext
from services.documents.content import (
    DocumentKind,
    InvoiceContent,
    Line,
    Party,
    RenderJob,
    RenderOptions,
)
from services.documents.links import DocumentLinks
from services.documents.pool import RenderPool
from services.documents.render import AssetFetcher, asset_map, render_pdf
from tests.factories import api_key, gql, make_account, make_invoice
from tests.pdfs import CountingRenderer, pdf_text

PUBLIC_URL = "https://billing.example.test"
INVOICES = """
query Invoices($status: [InvoiceStatus!]) {
  viewer { account { invoices(first: 10, status: $status) { edges { node {
    number status pdfUrl receiptUrl
  } } } } }
}
"""


@pytest.fixture
def renderer(render_pool: RenderPool) -> CountingRenderer:
    return CountingRenderer(render_pool)


@pytest.fixture
def settings(db: str) -> Settings:
    return Settings(
        database_url=db, public_url=PUBLIC_URL, document_link_secret=SecretStr("s3cret")
    )


@pytest.fixture
async def doc_client(
    services: ServiceContext, settings: Settings, renderer: CountingRenderer
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, services=services, manage_db=False, renderer=renderer)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
        yield http


@pytest.fixture
def links(settings: Settings, clock: FixedClock) -> DocumentLinks:
    """Mints links the way the app does (same secret, same clock)."""
    return DocumentLinks("s3cret", PUBLIC_URL, settings.document_link_lifetime_seconds, clock)


async def invoice_nodes(
    client: httpx.AsyncClient, key: str, status: list[str] | None = None
) -> list[dict[str, str | None]]:
    body = await gql(client, INVOICES, {"status": status}, key=key)
    assert "errors" not in body, body
    edges = body["data"]["viewer"]["account"]["invoices"]["edges"]
    return [edge["node"] for edge in edges]


def local(url: str | None) -> str:
    assert url is not None
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_pdf_url_downloads_the_invoice_inline(
    doc_client: httpx.AsyncClient, renderer: CountingRenderer
) -> None:
    account = await make_account()
    invoice = await make_invoice(account)
    (node,) = await invoice_nodes(doc_client, await api_key(account))
    assert node["pdfUrl"] is not None
    assert node["pdfUrl"].startswith(f"{PUBLIC_URL}/documents/invoices/{invoice.id}.pdf?sig=")

    first = await doc_client.get(local(node["pdfUrl"]))
    second = await doc_client.get(local(node["pdfUrl"]))

    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/pdf"
    assert first.headers["content-disposition"] == (
        f'inline; filename="invoice-{invoice.number}.pdf"'
    )
    assert first.headers["cache-control"] == "private, max-age=3600"
    assert first.content.startswith(b"%PDF-")
    assert invoice.number is not None and invoice.number in pdf_text(first.content)
    assert second.content == first.content
    assert renderer.calls == 1  # the second download is the stored copy
    not_modified = await doc_client.get(
        local(node["pdfUrl"]), headers={"If-None-Match": first.headers["etag"]}
    )
    assert not_modified.status_code == 304


async def test_receipt_url_downloads_the_receipt_of_a_paid_invoice(
    doc_client: httpx.AsyncClient,
) -> None:
    account = await make_account()
    invoice = await make_invoice(account, status=InvoiceStatus.PAID)
    (node,) = await invoice_nodes(doc_client, await api_key(account))

    response = await doc_client.get(local(node["receiptUrl"]))

    receipt_number = "RCPT-" + (invoice.number or "").removeprefix("INV-")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == (
        f'inline; filename="receipt-{receipt_number}.pdf"'
    )
    assert receipt_number in pdf_text(response.content)


async def test_graphql_links_only_for_documents_that_exist(doc_client: httpx.AsyncClient) -> None:
    account = await make_account()
    for status in (InvoiceStatus.DRAFT, InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.VOID):
        await make_invoice(account, status=status)
    key = await api_key(account)

    nodes = await invoice_nodes(doc_client, key, ["DRAFT", "OPEN", "PAID", "VOID"])

    by_status = {node["status"]: node for node in nodes}
    assert by_status["DRAFT"]["pdfUrl"] is None
    assert by_status["DRAFT"]["receiptUrl"] is None
    for status in ("OPEN", "VOID"):
        assert by_status[status]["pdfUrl"] is not None
        assert by_status[status]["receiptUrl"] is None
    assert by_status["PAID"]["pdfUrl"] is not None
    assert (by_status["PAID"]["receiptUrl"] or "").startswith(f"{PUBLIC_URL}/documents/receipts/")


async def test_the_shared_client_fixture_hands_out_links_too(client: httpx.AsyncClient) -> None:
    account = await make_account()
    await make_invoice(account, status=InvoiceStatus.PAID)

    (node,) = await invoice_nodes(client, await api_key(account))

    assert (node["pdfUrl"] or "").startswith("http://127.0.0.1:8000/documents/invoices/")
    assert node["receiptUrl"] is not None


@pytest.mark.parametrize(
    "case", ["tampered", "expired", "other-document", "other-kind", "missing", "empty"]
)
async def test_refused_links_answer_403_and_render_nothing(
    doc_client: httpx.AsyncClient,
    links: DocumentLinks,
    renderer: CountingRenderer,
    clock: FixedClock,
    case: str,
) -> None:
    account = await make_account()
    invoice = await make_invoice(account, status=InvoiceStatus.PAID)
    other = await make_invoice(account, period_start=invoice.period_end)
    sig = links.sign(DocumentKind.INVOICE, invoice.id)
    path = f"/documents/invoices/{invoice.id}.pdf"
    url = {
        "tampered": f"{path}?sig={sig[:-2]}{'xy' if not sig.endswith('xy') else 'zz'}",
        "expired": f"{path}?sig={sig}",
        "other-document": f"/documents/invoices/{other.id}.pdf?sig={sig}",
        "other-kind": f"/documents/receipts/{invoice.id}.pdf?sig={sig}",
        "missing": path,
        "empty": f"{path}?sig=",
    }[case]
    if case == "expired":
        clock.advance(timedelta(seconds=3601))

    response = await doc_client.get(url)

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/plain")
    assert renderer.calls == 0
    assert await Document.all().count() == 0


async def test_an_expired_link_for_a_stored_document_is_still_refused(
    doc_client: httpx.AsyncClient, links: DocumentLinks, clock: FixedClock
) -> None:
    invoice = await make_invoice(await make_account())
    url = local(links.invoice_url(invoice.id))
    assert (await doc_client.get(url)).status_code == 200

    clock.advance(timedelta(seconds=1800))
    halfway = await doc_client.get(url)
    clock.advance(timedelta(seconds=1801))
    expired = await doc_client.get(url)

    assert halfway.headers["cache-control"] == "private, max-age=1800"
    assert expired.status_code == 403


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (InvoiceStatus.DRAFT, DocumentKind.INVOICE),
        (InvoiceStatus.OPEN, DocumentKind.RECEIPT),
        (InvoiceStatus.UNCOLLECTIBLE, DocumentKind.RECEIPT),
    ],
)
async def test_validly_signed_links_to_documents_that_do_not_exist_answer_404(
    doc_client: httpx.AsyncClient,
    links: DocumentLinks,
    renderer: CountingRenderer,
    status: InvoiceStatus,
    kind: DocumentKind,
) -> None:
    invoice = await make_invoice(await make_account(), status=status)

    response = await doc_client.get(local(links.url(kind, invoice.id)))

    assert response.status_code == 404
    assert renderer.calls == 0
    assert await Document.all().count() == 0


async def test_a_deleted_invoice_answers_404(
    doc_client: httpx.AsyncClient, links: DocumentLinks
) -> None:
    invoice = await make_invoice(await make_account())
    url = local(links.invoice_url(invoice.id))
    await Invoice.filter(id=invoice.id).delete()

    assert (await doc_client.get(url)).status_code == 404


async def test_production_refuses_to_start_without_a_link_secret(
    services: ServiceContext, db: str, render_pool: RenderPool
) -> None:
    settings = Settings(database_url=db, environment="production")
    app = create_app(settings, services=services, manage_db=False, renderer=render_pool)

    assert app.state.documents is None  # no links signed with a guessable key
    with pytest.raises(ValueError, match="BILLING_DOCUMENT_LINK_SECRET"):
        check_document_settings(settings)
    with pytest.raises(ValueError):
        async with app.router.lifespan_context(app):
            pass

    configured = settings.model_copy(update={"document_link_secret": SecretStr("x" * 32)})
    check_document_settings(configured)
    app = create_app(configured, services=services, manage_db=False, renderer=render_pool)
    assert app.state.documents is not None


def _job(options: RenderOptions) -> RenderJob:
    day = datetime(2026, 11, 12, tzinfo=UTC)
    invoice = InvoiceContent(
        number="INV-2026-000001",
        status="OPEN",
        currency="USD",
        customer=Party(name="Alice"),
        period_start=day,
        period_end=day + timedelta(days=30),
        issued_at=day,
        due_at=day + timedelta(days=14),
        paid_at=None,
        subtotal=2900,
        tax=0,
        total=2900,
        amount_paid=0,
        amount_due=2900,
        lines=(Line("Plus plan, monthly", 1, 2900, 2900),),
    )
    return RenderJob(DocumentKind.INVOICE, invoice, options)


def test_seller_block_and_logo_come_from_settings(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGB", (240, 60), "#1e3a8a").save(logo)
    settings = Settings(
        seller_name="Acme Billing GmbH",
        seller_address="Hauptstraße 1\n10115 Berlin\nGermany",
        seller_tax_id="DE136695976",
        seller_email="billing@acme.example",
        seller_logo_path=logo,
        document_paper_size="Letter",
    )
    job = _job(render_options(settings))
    fetcher = AssetFetcher(asset_map(job))

    pdf = render_pdf(job, fetcher=fetcher)

    text = pdf_text(pdf)
    for expected in (
        "Acme Billing GmbH",
        "Hauptstraße 1",
        "10115 Berlin",
        "Tax ID DE136695976",
        "billing@acme.example",
    ):
        assert expected in text, expected
    assert "asset:logo" in fetcher.requested
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert len(page.images) == 1
    assert round(float(page.mediabox.width)) == 612  # US Letter


def test_an_svg_logo_cannot_reach_the_network(tmp_path: Path) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'width="100" height="20"><rect width="100" height="20" fill="#123"/>'
        '<image xlink:href="http://127.0.0.1:9/track.png" width="10" height="10"/></svg>'
    )
    job = _job(render_options(Settings(seller_logo_path=logo)))
    fetcher = AssetFetcher(asset_map(job))

    render_pdf(job, fetcher=fetcher)

    assert "asset:logo" in fetcher.requested
    refused = [url for url in fetcher.requested if not url.startswith("asset:")]
    assert refused == ["http://127.0.0.1:9/track.png"]  # asked, refused, never fetched


def test_a_logo_that_is_not_an_image_is_refused_at_startup(tmp_path: Path) -> None:
    logo = tmp_path / "logo.html"
    logo.write_text("<h1>hi</h1>")

    with pytest.raises(ValueError, match="LOGO"):
        check_document_settings(Settings(seller_logo_path=logo))
