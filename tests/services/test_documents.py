"""Invoice and receipt PDFs: content read back with pypdf, storage, rendering safety, links."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from gateway.sandbox import Sandbox
from models import (
    Account,
    Document,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethodStatus,
    PaymentStatus,
)
from models import PaymentMethod as PaymentMethodModel
from services import payments
from services.addresses import Address
from services.billing_info import update_billing_info
from services.clock import FixedClock
from services.context import ServiceContext
from services.documents.content import DocumentKind, Party, RenderJob, RenderOptions
from services.documents.links import DocumentLinks, InvalidDocumentLink
from services.documents.pool import RenderPool
from services.documents.render import (
    Asset,
    AssetFetcher,
    AssetRefused,
    asset_map,
    render_html,
    render_pdf,
)
from services.documents.store import TEMPLATE_VERSION, DocumentStore
from services.errors import NotFound
from services.invoices import issue_invoice
from tests.factories import add_card, admin_of, make_account, make_invoice
from tests.pdfs import CountingRenderer, pdf_pages, pdf_text

SELLER = Party(
    name="Example Billing Co.",
    address_lines=("548 Market Street, Suite 100", "San Francisco, CA 94104", "United States"),
    email="billing@example.test",
    tax_id="US 12-3456789",
)
OPTIONS = RenderOptions(seller=SELLER, paper="A4", locale="en_US")
HOSTILE_NAMES = ['<img src="http://127.0.0.1:9/x">', "</td><script>alert(1)</script>"]


@pytest.fixture
def renderer(render_pool: RenderPool) -> CountingRenderer:
    return CountingRenderer(render_pool)


@pytest.fixture
def store(db: str, renderer: CountingRenderer, clock: FixedClock) -> DocumentStore:
    return DocumentStore(renderer, OPTIONS, clock)


async def billed_account(email: str = "alice@example.test", name: str = "Alice Ltd") -> Account:
    account = await make_account(email, name=name)
    await update_billing_info(
        admin_of(account),
        account.id,
        email="accounts@alice.example",
        address=Address(
            line1="Unter den Linden 5", city="Berlin", postal_code="10117", country="DE"
        ),
        tax_id="DE136695976",
    )
    return account


async def invoice_with_lines(account: Account, lines: list[tuple[str, int, int]]) -> Invoice:
    """An issued invoice with these (description, quantity, unit amount) lines and 10% tax."""
    draft = await make_invoice(account, status=InvoiceStatus.DRAFT)
    await InvoiceLine.filter(invoice_id=draft.id).delete()
    subtotal = 0
    for position, (description, quantity, unit) in enumerate(lines):
        await InvoiceLine.create(
            invoice=draft,
            position=position,
            description=description,
            quantity=quantity,
            unit_amount=unit,
            amount=quantity * unit,
        )
        subtotal += quantity * unit
    tax = subtotal // 10
    await Invoice.filter(id=draft.id).update(subtotal=subtotal, tax=tax, total=subtotal + tax)
    await draft.refresh_from_db()
    return await issue_invoice(draft, draft.period_start, due_in=timedelta(days=14))


async def test_invoice_pdf_holds_number_dates_lines_totals_and_snapshot(
    store: DocumentStore,
) -> None:
    account = await billed_account()
    invoice = await invoice_with_lines(
        account, [("Plus plan, monthly", 1, 2900), ("Extra seats", 3, 1000)]
    )

    document = await store.get(invoice.id, DocumentKind.INVOICE)

    text = pdf_text(document.content)
    assert document.filename == f"invoice-{invoice.number}.pdf"
    assert invoice.number is not None and invoice.number in text
    for expected in (
        "Date of issue Nov 12, 2026",
        "Date due Nov 26, 2026",
        "Nov 12",
        "Dec 12, 2026",
        "Plus plan, monthly 1 $29.00 $29.00",
        "Extra seats 3 $10.00 $30.00",
        "Subtotal $59.00",
        "Tax $5.90",
        "Total $64.90",
        "Amount paid $0.00",
        "Amount due $64.90",
        "$64.90 due November 26, 2026",
        # the billing snapshot, as issued
        "Alice Ltd",
        "Unter den Linden 5",
        "10117 Berlin",
        "Germany",
        "accounts@alice.example",
        "Tax ID DE136695976",
        # the seller block from settings
        "Example Billing Co.",
        "Tax ID US 12-3456789",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    assert "PAID" not in text


async def test_receipt_shows_payment_date_card_and_amount_even_after_card_deleted(
    services: ServiceContext, sandbox: Sandbox, store: DocumentStore, clock: FixedClock
) -> None:
    account = await billed_account()
    card = await add_card(services, sandbox, account, make_default=True)
    invoice = await make_invoice(account, total=4900)
    clock.advance(timedelta(days=1))
    await payments.pay_invoice(services, admin_of(account), invoice.id)
    await PaymentMethodModel.filter(id=card.id).update(status=PaymentMethodStatus.DELETED)

    document = await store.get(invoice.id, DocumentKind.RECEIPT)

    text = pdf_text(document.content)
    receipt_number = "RCPT-" + (invoice.number or "").removeprefix("INV-")
    assert document.filename == f"receipt-{receipt_number}.pdf"
    for expected in (
        f"Receipt {receipt_number}",
        f"Invoice number {invoice.number}",
        "AMOUNT PAID $49.00",
        "DATE PAID Nov 23, 2026",
        "PAYMENT METHOD Visa •••• 4242",
        "Amount paid $49.00",
        "Alice Ltd",
        "Unter den Linden 5",
    ):
        assert expected in text, expected


async def test_invoice_pdf_shows_paid_stamp_once_paid_and_keeps_the_open_copy(
    store: DocumentStore, renderer: CountingRenderer, clock: FixedClock
) -> None:
    account = await billed_account()
    invoice = await make_invoice(account)
    open_pdf = await store.get(invoice.id, DocumentKind.INVOICE)
    await Invoice.filter(id=invoice.id).update(
        status=InvoiceStatus.PAID, amount_paid=2900, paid_at=invoice.issued_at
    )
    await Payment.create(
        account_id=invoice.account_id,
        invoice=invoice,
        amount=2900,
        currency="USD",
        status=PaymentStatus.SUCCEEDED,
        provider_idempotency_key="pi-test-1",
        created_at=clock.now(),
        updated_at=clock.now(),
        settled_at=clock.now(),
    )

    paid_pdf = await store.get(invoice.id, DocumentKind.INVOICE)

    assert "PAID" in pdf_text(paid_pdf.content)
    assert "Amount due $0.00" in pdf_text(paid_pdf.content)
    assert "PAID" not in pdf_text(open_pdf.content)
    assert renderer.calls == 2
    versions = await Document.filter(invoice_id=invoice.id).values_list(
        "template_version", flat=True
    )
    assert sorted(versions) == [f"{TEMPLATE_VERSION}+open", f"{TEMPLATE_VERSION}+paid"]


async def test_billing_info_change_leaves_stored_pdf_identical_and_reaches_next_invoice(
    store: DocumentStore, renderer: CountingRenderer
) -> None:
    account = await billed_account()
    first = await make_invoice(account)
    before = await store.get(first.id, DocumentKind.INVOICE)

    await update_billing_info(
        admin_of(account), account.id, name="Alice Renamed GmbH", tax_id="DE129273398"
    )
    again = await store.get(first.id, DocumentKind.INVOICE)
    await Document.filter(invoice_id=first.id).delete()  # rendered again from the snapshot
    rerendered = await store.get(first.id, DocumentKind.INVOICE)
    second = await make_invoice(account, period_start=first.period_end)
    next_pdf = await store.get(second.id, DocumentKind.INVOICE)

    assert again.content == before.content
    assert rerendered.content == before.content
    assert renderer.calls == 3
    assert "Alice Ltd" in pdf_text(before.content)
    next_text = pdf_text(next_pdf.content)
    assert "Alice Renamed GmbH" in next_text and "DE129273398" in next_text
    assert "Alice Ltd" not in next_text


async def test_sixty_line_invoice_paginates_with_repeated_header_and_whole_rows(
    store: DocumentStore,
) -> None:
    account = await billed_account()
    lines = [(f"Usage line {n:02d}: API requests, region eu-west", n, 125) for n in range(1, 61)]
    invoice = await invoice_with_lines(account, lines)

    document = await store.get(invoice.id, DocumentKind.INVOICE)

    pages = pdf_pages(document.content)
    assert len(pages) > 1
    assert len(PdfReader(io.BytesIO(document.content)).pages) == len(pages)
    for number, page in enumerate(pages, start=1):
        assert "DESCRIPTION QTY UNIT PRICE AMOUNT" in page  # the header repeats
        assert f"Page {number} of {len(pages)}" in page
    for description, quantity, _ in lines:
        row = f"{description} {quantity} $1.25"
        assert sum(row in page for page in pages) == 1, row  # each row whole, on one page
    assert "Amount due" in pages[-1]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
async def test_hostile_billing_name_is_printed_as_text_and_never_fetched(
    store: DocumentStore, name: str
) -> None:
    account = await make_account(name=name)
    invoice = await make_invoice(account)
    job = await store.render_job(invoice, DocumentKind.INVOICE)
    fetcher = AssetFetcher(asset_map(job))

    pdf = await asyncio.to_thread(render_pdf, job, fetcher=fetcher)

    assert name in pdf_text(pdf)
    assert "&lt;" in render_html(job) and name not in render_html(job)
    assert fetcher.requested, "the stylesheet and fonts come through the fetcher"
    assert all(url.startswith("asset:") for url in fetcher.requested), fetcher.requested
    assert not any("127.0.0.1" in url for url in fetcher.requested)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "https://example.com/logo.png",
        "file:///etc/passwd",
        "data:text/css,body{}",
        "asset:../render.py",
        "asset:logo",
    ],
)
def test_fetcher_refuses_everything_but_the_documents_own_assets(url: str) -> None:
    fetcher = AssetFetcher({"asset:style.css": Asset(b"body {}", "text/css")})

    with pytest.raises(AssetRefused):
        fetcher.fetch(url)

    assert fetcher.fetch("asset:style.css").content_type == "text/css"
    assert fetcher.requested == [url, "asset:style.css"]


async def test_concurrent_first_requests_render_and_store_once(
    store: DocumentStore, renderer: CountingRenderer
) -> None:
    invoice = await make_invoice(await billed_account())

    documents = await asyncio.gather(
        *(store.get(invoice.id, DocumentKind.INVOICE) for _ in range(6))
    )

    assert renderer.calls == 1
    assert await Document.filter(invoice_id=invoice.id).count() == 1
    assert len({d.sha256 for d in documents}) == 1


async def test_a_copy_stored_by_another_process_meanwhile_wins(
    db: str, render_pool: RenderPool, clock: FixedClock
) -> None:
    invoice = await make_invoice(await billed_account())

    class OtherProcessFirst:
        """Renders, and while it does another gateway process stores its own copy."""

        async def render(self, job: RenderJob) -> bytes:
            await Document.create(
                invoice_id=invoice.id,
                kind="invoice",
                template_version=f"{TEMPLATE_VERSION}+open",
                content=b"%PDF-other",
                sha256="0" * 64,
                size=10,
                created_at=clock.now(),
            )
            return await render_pool.render(job)

    document = await DocumentStore(OtherProcessFirst(), OPTIONS, clock).get(
        invoice.id, DocumentKind.INVOICE
    )

    assert document.content == b"%PDF-other"
    assert await Document.filter(invoice_id=invoice.id).count() == 1


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (InvoiceStatus.DRAFT, DocumentKind.INVOICE),
        (InvoiceStatus.DRAFT, DocumentKind.RECEIPT),
        (InvoiceStatus.OPEN, DocumentKind.RECEIPT),
        (InvoiceStatus.VOID, DocumentKind.RECEIPT),
    ],
)
async def test_documents_that_do_not_exist_are_not_found_and_not_rendered(
    store: DocumentStore, renderer: CountingRenderer, status: InvoiceStatus, kind: DocumentKind
) -> None:
    invoice = await make_invoice(await billed_account(), status=status)

    with pytest.raises(NotFound):
        await store.get(invoice.id, kind)

    assert renderer.calls == 0
    assert await Document.all().count() == 0


async def test_money_and_dates_follow_locale_and_currency_and_paper_follows_settings(
    db: str, renderer: CountingRenderer, clock: FixedClock
) -> None:
    invoice = await make_invoice(await billed_account(), total=123456)
    await Invoice.filter(id=invoice.id).update(currency="EUR")
    german_letter = RenderOptions(seller=SELLER, paper="Letter", locale="de_DE")

    document = await DocumentStore(renderer, german_letter, clock).get(
        invoice.id, DocumentKind.INVOICE
    )

    text = pdf_text(document.content)
    assert "1.234,56 €" in text
    assert "26.11.2026" in text
    box = PdfReader(io.BytesIO(document.content)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


# -- signed links -------------------------------------------------------------------


@pytest.fixture
def links(clock: FixedClock) -> DocumentLinks:
    return DocumentLinks("test-secret", "https://billing.example.test/", 3600, clock)


def test_link_is_absolute_and_verifies_for_its_document(
    links: DocumentLinks, clock: FixedClock
) -> None:
    url = links.invoice_url(42)
    sig = url.split("?sig=", 1)[1]

    assert url.startswith("https://billing.example.test/documents/invoices/42.pdf?sig=")
    assert links.verify(DocumentKind.INVOICE, 42, sig) == 3600
    clock.advance(timedelta(seconds=600))
    assert links.verify(DocumentKind.INVOICE, 42, sig) == 3000


@pytest.mark.parametrize(
    "case", ["tampered", "expired", "other-invoice", "other-kind", "missing", "other-secret"]
)
def test_refused_links(links: DocumentLinks, clock: FixedClock, case: str) -> None:
    sig = links.sign(DocumentKind.INVOICE, 42)
    kind, invoice_id, given = DocumentKind.INVOICE, 42, sig
    if case == "tampered":
        given = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    elif case == "expired":
        clock.advance(timedelta(seconds=3601))
    elif case == "other-invoice":
        invoice_id = 43
    elif case == "other-kind":
        kind = DocumentKind.RECEIPT
    elif case == "missing":
        given = ""
    elif case == "other-secret":
        given = DocumentLinks("another", "https://x", 3600, clock).sign(kind, 42)

    with pytest.raises(InvalidDocumentLink):
        links.verify(kind, invoice_id, given)
