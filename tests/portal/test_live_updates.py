"""Live updates in the portal: two pages on one account; what one does (or the worker, or
another device) shows up in the other without a reload, through the `billingEvents`
subscription over SSE. Checked with axe (WCAG 2.1 AA) after the update."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from gateway.sandbox import Sandbox
from models import Account, Invoice, InvoiceStatus
from services.context import ServiceContext
from tests.factories import OK_CARD, SubscriptionStatus, add_card, make_invoice
from tests.portal.axe import axe_violations
from tests.portal.conftest import PortalFactory, requires_chromium, save_screenshot
from tests.portal.helpers import card_row, fill_card, key_for, plus_account, sign_in, status

pytestmark = requires_chromium


async def test_paying_in_one_tab_clears_the_past_due_banner_in_the_other(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    # given a past-due account with a working card, open in two tabs
    account, sub, _, _ = await plus_account(
        services, sandbox, cards=(OK_CARD,), paid_invoices=0, open_invoice=False
    )
    from models import Subscription

    await Subscription.filter(id=sub.id).update(status=SubscriptionStatus.PAST_DUE)
    invoice = await make_invoice(account, subscription=sub)
    await Invoice.filter(id=invoice.id).update(first_failed_at=invoice.issued_at)
    portal = await start_portal()
    key = await key_for(account)
    other = await page.context.new_page()
    await sign_in(page, portal.url, key)
    await sign_in(other, portal.url, key)
    banner = other.get_by_role("region", name="Your last payment failed")
    await expect(banner).to_be_visible()

    # when the balance is paid in the first tab
    await (
        page.get_by_role("region", name="Your last payment failed")
        .get_by_role("button", name=re.compile("Pay outstanding balance"))
        .click()
    )
    await expect(status(page)).to_contain_text("outstanding balance is paid")

    # then the other tab's banner goes away by itself, and the subscription reads active
    await expect(banner).to_have_count(0, timeout=10_000)
    await expect(other.locator("#subscription")).to_contain_text("Active")
    assert not await Invoice.filter(account_id=account.id, status=InvoiceStatus.OPEN).exists()
    assert await axe_violations(other) == []
    await save_screenshot(other, "live-past-due-cleared")
    await other.goto("about:blank")  # closes its event stream


async def test_a_card_added_elsewhere_appears(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    # given the billing page open in two tabs
    account, *_ = await plus_account(services, sandbox, cards=(OK_CARD,), open_invoice=False)
    portal = await start_portal()
    key = await key_for(account)
    other = await page.context.new_page()
    await sign_in(page, portal.url, key)
    await sign_in(other, portal.url, key)
    await expect(card_row(other, "4242")).to_be_visible()

    # when a card is added in the first tab, and another one from a different device
    await page.get_by_role("button", name="Add a payment method").click()
    await fill_card(page, "5555555555554444")
    await page.get_by_role("button", name="Save card").click()
    await expect(status(page)).to_contain_text("ending 4444 was added")
    await add_card(services, sandbox, await Account.get(id=account.id), "4000056655665556")

    # then both appear in the other tab without a reload
    await expect(card_row(other, "4444")).to_be_visible(timeout=10_000)
    await expect(card_row(other, "5556")).to_be_visible(timeout=10_000)
    assert await axe_violations(other) == []
    await other.goto("about:blank")
