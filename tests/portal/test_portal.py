"""The billing portal, flow by flow, in chromium: what a customer clicks, what the page
announces, and what the gateway recorded. Every test also fails on a console error
(see the `page` fixture). Screenshots land in var/test-artifacts/portal/."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from playwright.async_api import Page, expect

from gateway.demo import seed_if_absent, write_credentials
from gateway.sandbox import Sandbox
from models import (
    Account,
    ApiKeyRole,
    Invoice,
    InvoiceStatus,
    PaymentMethod,
    PaymentMethodStatus,
    PlanTier,
    Subscription,
    SubscriptionStatus,
)
from services import payment_methods
from services.context import ServiceContext
from tests.conftest import NOW
from tests.factories import THREE_DS_CARD, admin_of, api_key
from tests.portal.conftest import (
    PHONE,
    ROOT,
    Portal,
    PortalFactory,
    requires_chromium,
    save_screenshot,
)
from tests.portal.helpers import (
    card_row,
    fill_card,
    free_account,
    invoice_row,
    key_for,
    open_menu,
    plus_account,
    sign_in,
    status,
)

pytestmark = requires_chromium

README_SHOT = ROOT / "docs" / "portal.png"


async def _cards(account: Account) -> list[PaymentMethod]:
    return (
        await PaymentMethod.filter(account_id=account.id)
        .exclude(status=PaymentMethodStatus.DELETED)
        .order_by("id")
    )


# --- sign-in -------------------------------------------------------------------------


async def test_sign_in_with_a_token_and_sign_out(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    account, *_ = await plus_account(services, sandbox)
    key = await key_for(account)
    portal = await start_portal()

    # given no demo mode, the page asks for a token and offers no demo accounts
    await page.goto(portal.url)
    await expect(page.get_by_role("heading", name="Sign in to billing")).to_be_visible()
    await expect(page.get_by_role("heading", name="Demo accounts")).to_have_count(0)
    demo = await page.request.get(f"{portal.base_url}/portal/demo-accounts.json")
    assert await demo.json() == {"demo": False, "accounts": []}

    # when a wrong token is given, then it is refused and forgotten
    await page.get_by_label("Access token").fill("bgw_not_a_key")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("not accepted")
    assert await page.evaluate("sessionStorage.getItem('billing-portal.token')") is None

    # when the right one is given (as pasted from a header), then the account shows
    await page.get_by_label("Access token").fill(f"Bearer {key}")
    await page.get_by_label("Access token").press("Enter")
    await expect(page.get_by_role("heading", name="Subscription")).to_be_visible()
    await expect(page.locator("#session")).to_contain_text(account.email)
    assert await page.evaluate("sessionStorage.getItem('billing-portal.token')") == key

    # when signing out, then the token is gone from the tab
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in to billing")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('billing-portal.token')") is None


async def test_page_has_a_strict_csp_and_no_inline_code(
    page: Page, start_portal: PortalFactory, sandbox: Sandbox
) -> None:
    portal = await start_portal()
    response = await page.goto(portal.url)
    assert response is not None and response.ok
    csp = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == f"'self' {sandbox.api_base}"
    assert directives["default-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "cdn" not in (await response.text()).lower()
    assert await page.locator("script:not([src])").count() == 0


# --- demo mode: the picker and past-due recovery -----------------------------------------


async def _demo_portal(
    start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox, tmp_path: Path
) -> Portal:
    """What `make run` serves: the demo data and keys, in demo mode."""
    assert await seed_if_absent(services, sandbox.api_base, sandbox.secret_key)
    credentials = await write_credentials(tmp_path / "demo-credentials.json", NOW)
    return await start_portal(environment="demo", demo_credentials=credentials)


async def test_demo_picker_signs_in_to_each_demo_account(
    page: Page,
    start_portal: PortalFactory,
    services: ServiceContext,
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    portal = await _demo_portal(start_portal, services, sandbox, tmp_path)
    await page.goto(portal.url)

    picker = page.get_by_role("region", name="Demo accounts")
    for email in ("free@demo.test", "plus@demo.test", "enterprise@demo.test", "pastdue@demo.test"):
        await expect(
            picker.get_by_role("button", name=f"Sign in as {email}", exact=True)
        ).to_be_visible()
    await save_screenshot(page, "sign-in-demo")

    await picker.get_by_role("button", name="Sign in as plus@demo.test", exact=True).click()
    await expect(page.locator(".page-head")).to_contain_text("Plus Demo Inc.")
    await expect(page.locator("#session")).to_contain_text("Admin")
    await expect(
        invoice_row(page, "INV-2026-000004").get_by_role("button", name=re.compile("^Pay"))
    ).to_be_visible()


async def test_past_due_recovery(
    page: Page,
    start_portal: PortalFactory,
    services: ServiceContext,
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    portal = await _demo_portal(start_portal, services, sandbox, tmp_path)
    await page.goto(portal.url)
    await page.get_by_role("button", name="Sign in as pastdue@demo.test", exact=True).click()

    # given the past-due banner
    banner = page.get_by_role("region", name="Your last payment failed")
    await expect(banner).to_contain_text("$29.00")
    await expect(page.locator("#subscription")).to_contain_text("Past due")
    await save_screenshot(page, "past-due")

    # when paying with the card on file, then the bank declines again and says so
    await banner.get_by_role("button", name=re.compile("Pay outstanding balance")).click()
    await expect(status(page)).to_contain_text("declined")
    await expect(banner).to_be_visible()

    # when updating the payment method (a working card, made the default)...
    await banner.get_by_role("button", name="Update payment method").click()
    await expect(page.get_by_label("Make this my default payment method")).to_be_checked()
    await fill_card(page, "4242424242424242")
    await page.get_by_role("button", name="Save card").click()
    await expect(status(page)).to_contain_text("ending 4242 was added as your default")
    await expect(card_row(page, "4242")).to_contain_text("Default")

    # ...and paying the balance, then the subscription is active again at once
    await banner.get_by_role("button", name=re.compile("Pay outstanding balance")).click()
    await expect(status(page)).to_contain_text("outstanding balance is paid")
    await expect(banner).to_have_count(0)
    await expect(page.locator("#subscription")).to_contain_text("Active")
    await expect(page.locator("#subscription")).to_contain_text("On")
    account = await Account.get(email="pastdue@demo.test")
    sub = await Subscription.get(account_id=account.id)
    assert sub.status is SubscriptionStatus.ACTIVE
    assert not await Invoice.filter(account_id=account.id, status=InvoiceStatus.OPEN).exists()
    await save_screenshot(page, "past-due-recovered")


# --- payment methods ---------------------------------------------------------------------


async def test_add_a_card_without_3ds(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    account, *_ = await plus_account(services, sandbox, cards=("4242424242424242",))
    portal = await start_portal()
    await sign_in(page, portal.url, await key_for(account))

    await page.get_by_role("button", name="Add a payment method").click()
    await expect(page.get_by_label("Make this my default payment method")).not_to_be_checked()
    await fill_card(page, "5555555555554444")
    await save_screenshot(page, "add-card-form")
    await page.get_by_role("button", name="Save card").click()

    await expect(status(page)).to_have_text("Visa ending 4444 was added.")
    await expect(card_row(page, "4444")).to_contain_text("Expires 12/30")
    await expect(card_row(page, "4444")).not_to_contain_text("Default")
    await expect(page.get_by_role("button", name="Add a payment method")).to_be_focused()
    cards = await _cards(account)
    assert [(c.last4, c.is_default, c.status) for c in cards] == [
        ("4242", True, PaymentMethodStatus.ACTIVE),
        ("4444", False, PaymentMethodStatus.ACTIVE),
    ]


async def test_an_expired_card_is_refused_in_the_add_card_form(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    account, *_ = await plus_account(services, sandbox, cards=("4242424242424242",))
    portal = await start_portal()
    await sign_in(page, portal.url, await key_for(account))

    # when the customer saves a card that expired last month, asking for it as default
    await page.get_by_role("button", name="Add a payment method").click()
    await fill_card(page, "5555555555554444", exp_month="10", exp_year="26")
    await page.get_by_label("Make this my default payment method").check()
    await page.get_by_role("button", name="Save card").click()

    # then the form says it expired (CARD_DECLINED), and nothing was added or changed
    await expect(page.locator("#add-card-error")).to_contain_text("expired")
    cards = await _cards(account)
    assert [(c.last4, c.is_default) for c in cards] == [("4242", True)]


async def test_add_a_card_with_3ds_failed_then_passed(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    account, *_ = await plus_account(services, sandbox, cards=("4242424242424242",))
    portal = await start_portal()
    await sign_in(page, portal.url, await key_for(account))
    await page.get_by_role("button", name="Add a payment method").click()

    # when the cardholder fails the bank's challenge, then nothing is added
    await fill_card(page, THREE_DS_CARD)
    await page.get_by_role("button", name="Save card").click()
    await page.get_by_role("button", name="Fail authentication").click()
    await expect(page.locator("#add-card-error")).to_contain_text("authentication failed")
    assert [c.last4 for c in await _cards(account)] == ["4242"]

    # when they pass it (and ask for the new card as default), then it is active and default
    await page.get_by_label("Make this my default payment method").check()
    await page.get_by_role("button", name="Save card").click()
    await expect(page.get_by_role("button", name="Complete authentication")).to_be_visible()
    await save_screenshot(page, "add-card-3ds-challenge", full_page=False)
    await page.get_by_role("button", name="Complete authentication").click()
    await expect(status(page)).to_have_text(
        "Visa ending 3184 was added as your default payment method."
    )
    await expect(card_row(page, "3184")).to_contain_text("Default")
    cards = {c.last4: c for c in await _cards(account)}
    assert cards["3184"].status is PaymentMethodStatus.ACTIVE and cards["3184"].is_default
    assert not cards["4242"].is_default


async def test_make_default_with_the_keyboard(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    account, *_ = await plus_account(services, sandbox)
    portal = await start_portal()
    await sign_in(page, portal.url, await key_for(account))

    # the default card's own "Make default" is unavailable, with the reason
    menu = await open_menu(page, "4242")
    item = menu.get_by_role("menuitem", name=re.compile("^Make default"))
    await expect(item).to_have_attribute("aria-disabled", "true")
    await expect(item).to_contain_text("already your default")
    await page.keyboard.press("Escape")
    await expect(menu).to_be_hidden()

    # keyboard only: focus the other card's "…" button, open, pick "Make default"
    trigger = card_row(page, "4444").get_by_role("button", name=re.compile("Actions for"))
    await trigger.focus()
    outline = await trigger.evaluate("el => getComputedStyle(el).outlineStyle")
    await page.keyboard.press("Enter")
    first = card_row(page, "4444").get_by_role("menuitem", name=re.compile("^Make default"))
    await expect(first).to_be_focused()
    await page.keyboard.press("Enter")

    await expect(status(page)).to_have_text(
        "Visa ending in 4444 is now your default payment method."
    )
    await expect(card_row(page, "4444")).to_contain_text("Default")
    await expect(card_row(page, "4242")).not_to_contain_text("Default")
    await expect(trigger).to_be_focused()  # focus survives the refresh
    assert outline != "none", "keyboard focus must be visible"
    cards = {c.last4: c.is_default for c in await _cards(account)}
    assert cards == {"4242": False, "4444": True}


async def test_delete_refused_then_allowed(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    account, *_ = await plus_account(services, sandbox)
    portal = await start_portal()
    await sign_in(page, portal.url, await key_for(account))

    # the default card on a paid plan: Delete is refused, with the reason
    menu = await open_menu(page, "4242")
    delete = menu.get_by_role("menuitem", name=re.compile("^Delete"))
    await expect(delete).to_have_attribute("aria-disabled", "true")
    await expect(delete).to_contain_text("Make another card the default first")
    await delete.click(force=True)
    await expect(page.locator("#confirm")).not_to_have_attribute("open", "")
    await page.keyboard.press("Escape")

    # cancelling the confirmation keeps the card
    menu = await open_menu(page, "4444")
    await menu.get_by_role("menuitem", name="Delete").click()
    await page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    await expect(card_row(page, "4444")).to_be_visible()

    # deleting another card is allowed after confirming
    menu = await open_menu(page, "4444")
    await menu.get_by_role("menuitem", name="Delete").click()
    await expect(page.get_by_role("dialog")).to_contain_text("Visa ending in 4444 will be removed")
    await save_screenshot(page, "delete-confirm", full_page=False)
    await page.get_by_role("dialog").get_by_role("button", name="Delete card").click()
    await expect(status(page)).to_have_text("Visa ending in 4444 was deleted.")
    await expect(card_row(page, "4444")).to_have_count(0)
    assert [c.last4 for c in await _cards(account)] == ["4242"]

    # the last card now: still refused (it is the default on a paid plan): add one first
    menu = await open_menu(page, "4242")
    last = menu.get_by_role("menuitem", name=re.compile("^Delete"))
    await expect(last).to_have_attribute("aria-disabled", "true")
    await expect(last).to_contain_text("Add another card first")
    await expect(last).not_to_contain_text("Make another card the default")


async def test_refusal_from_the_gateway_is_announced(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    """The page's copy of the rules can be stale; the gateway's answer wins."""
    account, _, pms, _ = await plus_account(services, sandbox)
    portal = await start_portal()
    await sign_in(page, portal.url, await key_for(account))

    # given 4444 became the default elsewhere after the page loaded
    await payment_methods.make_default(services, admin_of(account), pms[1].id)
    menu = await open_menu(page, "4444")
    await menu.get_by_role("menuitem", name="Delete").click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete card").click()

    # then the refusal is shown, nothing was deleted, and the page shows the new default
    await expect(status(page)).to_have_text(
        "The default card cannot be deleted; make another card the default first."
    )
    await expect(card_row(page, "4444")).to_contain_text("Default")
    assert len(await _cards(account)) == 2


async def test_free_tier_may_delete_its_default_card(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    account = await free_account(services, sandbox)
    portal = await start_portal()
    await sign_in(page, portal.url, await key_for(account))

    menu = await open_menu(page, "4242")
    await menu.get_by_role("menuitem", name="Delete").click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete card").click()
    await expect(status(page)).to_have_text("Visa ending in 4242 was deleted.")
    await expect(page.get_by_text("No payment method on file yet.")).to_be_visible()
    assert await _cards(account) == []


# --- invoices ----------------------------------------------------------------------------


async def test_pay_an_open_invoice_and_download_its_pdfs(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    account, _, _, invoices = await plus_account(services, sandbox)
    open_invoice = invoices[-1]
    portal = await start_portal()
    await sign_in(page, portal.url, await key_for(account))
    await save_screenshot(page, "plus-account")
    if os.environ.get("BILLING_UPDATE_README_SCREENSHOT") == "1":
        README_SHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(await save_screenshot(page, "readme"), README_SHOT)

    row = invoice_row(page, open_invoice.number)
    await expect(row).to_contain_text("Open")
    await expect(row.get_by_role("link", name=re.compile("^Download receipt"))).to_have_count(0)
    await row.get_by_role("button", name=re.compile(f"Pay invoice {open_invoice.number}")).click()

    await expect(status(page)).to_have_text(f"Invoice {open_invoice.number} is paid. Thank you!")
    await expect(row).to_contain_text("Paid")
    await expect(row.get_by_role("button", name=re.compile("^Pay"))).to_have_count(0)
    assert (await Invoice.get(id=open_invoice.id)).status is InvoiceStatus.PAID

    # the invoice and the receipt open as PDFs in a new tab
    for label in ("Download invoice", "Download receipt"):
        link = row.get_by_role("link", name=re.compile(f"^{label}"))
        await expect(link).to_have_attribute("target", "_blank")
        href = await link.get_attribute("href")
        assert href is not None and href.startswith(f"{portal.base_url}/documents/")
        async with page.context.expect_page() as new_tab:
            await link.click()
        tab = await new_tab.value
        assert tab.url == href
        pdf = await page.request.get(href)
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
        assert (await pdf.body()).startswith(b"%PDF")
        await tab.close()


async def test_pay_an_invoice_with_3ds(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    account, _, _, invoices = await plus_account(
        services, sandbox, cards=("4242424242424242",), paid_invoices=0
    )
    portal = await start_portal()
    await sign_in(page, portal.url, await key_for(account))

    # given a 3-D Secure card added in the page and made the default
    await page.get_by_role("button", name="Add a payment method").click()
    await fill_card(page, THREE_DS_CARD)
    await page.get_by_label("Make this my default payment method").check()
    await page.get_by_role("button", name="Save card").click()
    await page.get_by_role("button", name="Complete authentication").click()
    await expect(card_row(page, "3184")).to_contain_text("Default")

    # when paying, the bank asks again; failing it leaves the invoice open
    row = invoice_row(page, invoices[0].number)
    await row.get_by_role("button", name=re.compile("^Pay invoice")).click()
    await page.get_by_role("button", name="Fail authentication").click()
    await expect(status(page)).to_have_class(re.compile("status-error"))
    await expect(row).to_contain_text("Open")
    assert (await Invoice.get(id=invoices[0].id)).status is InvoiceStatus.OPEN

    # passing it pays the invoice
    await row.get_by_role("button", name=re.compile("^Pay invoice")).click()
    await page.get_by_role("button", name="Complete authentication").click()
    await expect(status(page)).to_have_text(f"Invoice {invoices[0].number} is paid. Thank you!")
    await expect(row).to_contain_text("Paid")
    assert (await Invoice.get(id=invoices[0].id)).status is InvoiceStatus.PAID


# --- billing info, enterprise, read-only, phone ---------------------------------------------


async def test_billing_info_update_and_field_errors(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    account, *_ = await plus_account(services, sandbox, open_invoice=False, paid_invoices=0)
    portal = await start_portal()
    await sign_in(page, portal.url, await key_for(account))
    section = page.get_by_role("region", name="Billing information")
    await expect(section).to_contain_text("Changes apply to future invoices only")

    # an invalid VAT number is refused next to its field
    await section.get_by_label("Country code").fill("DE")
    await section.get_by_label("Tax ID").fill("DE000")
    await section.get_by_role("button", name="Save billing information").click()
    tax_id = section.get_by_label("Tax ID")
    await expect(tax_id).to_have_attribute("aria-invalid", "true")
    await expect(tax_id).to_be_focused()
    await expect(section.locator("#bi-taxId-error")).to_have_text(
        "taxId is not a valid DE VAT number."
    )
    assert (await Account.get(id=account.id)).tax_id is None

    # a valid one is saved (compacted by the gateway) and shown
    await tax_id.fill("DE 136 695 976")
    await section.get_by_label("City").fill("Berlin")
    await section.get_by_role("button", name="Save billing information").click()
    await expect(status(page)).to_contain_text("Billing information saved")
    await expect(section.get_by_label("Tax ID")).to_have_value("DE136695976")
    await expect(section.get_by_label("Tax ID")).not_to_have_attribute("aria-invalid", "true")
    saved = await Account.get(id=account.id)
    assert (saved.tax_id, saved.address_city, saved.address_country) == (
        "DE136695976",
        "Berlin",
        "DE",
    )


async def test_enterprise_sees_data_and_no_actions(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    account, *_ = await plus_account(services, sandbox)
    await Account.filter(id=account.id).update(tier=PlanTier.ENTERPRISE)
    portal = await start_portal()
    await sign_in(page, portal.url, await key_for(account))

    await expect(
        page.get_by_text("Contact your sales representative to change payment methods")
    ).to_be_visible()
    await expect(card_row(page, "4242")).to_contain_text("Default")
    await expect(page.get_by_role("button", name="Add a payment method")).to_be_hidden()
    await expect(page.get_by_role("button", name=re.compile("^Actions for"))).to_have_count(0)
    await expect(page.get_by_role("button", name=re.compile("^Pay"))).to_have_count(0)
    await expect(page.get_by_role("button", name="Save billing information")).to_have_count(0)
    await expect(page.get_by_label("City")).to_have_attribute("readonly", "")
    await expect(page.get_by_role("link", name=re.compile("^Download invoice"))).to_have_count(3)
    await save_screenshot(page, "enterprise")


async def test_viewer_key_reads_only(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    account, *_ = await plus_account(services, sandbox)
    portal = await start_portal()
    await sign_in(page, portal.url, await api_key(account, ApiKeyRole.VIEWER))

    await expect(page.locator("#session")).to_contain_text("Read only")
    await expect(page.get_by_text("You have read-only access")).to_be_visible()
    await expect(page.get_by_role("button", name="Add a payment method")).to_be_hidden()
    await expect(page.get_by_role("button", name=re.compile("^Actions for"))).to_have_count(0)
    await expect(page.get_by_role("button", name=re.compile("^Pay"))).to_have_count(0)


async def test_phone_sized_screen(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    account, *_ = await plus_account(services, sandbox)
    portal = await start_portal()
    await page.set_viewport_size(PHONE)
    await sign_in(page, portal.url, await key_for(account))

    await expect(page.get_by_role("heading", name="Billing history")).to_be_visible()
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"
    # the history rows become cards that still carry their labels and actions
    row = page.locator("tbody tr").first
    await expect(row.get_by_role("button", name=re.compile("^Pay invoice"))).to_be_visible()
    await save_screenshot(page, "phone")
    menu = await open_menu(page, "4444")
    box = await menu.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    await save_screenshot(page, "phone-menu", full_page=False)
