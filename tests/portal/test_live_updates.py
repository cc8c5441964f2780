"""Live updates in the portal: two pages on one account; what one does (or the worker, or
another device) shows up in the other without a reload, through the `billingEvents`
subscription over SSE. Checked with axe (WCAG 2.1 AA) after the update."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from gateway.sandbox import Sandbox
from models import Account, Invoice, InvoiceStatus, PaymentMethod
from services import billing_info
from services.context import ServiceContext
from tests.factories import OK_CARD, SubscriptionStatus, add_card, admin_of, make_invoice
from tests.portal.axe import axe_violations
from tests.portal.conftest import PortalFactory, requires_chromium, save_screenshot
from tests.portal.helpers import (
    card_row,
    fill_card,
    key_for,
    open_menu,
    plus_account,
    sign_in,
    status,
)

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


async def _changed_elsewhere(page: Page, services: ServiceContext, sandbox: Sandbox) -> None:
    """Add a card and rename the billing name from another device, and wait until the page
    has rendered that data: the billing form shows the new name (one render updates every
    section, so the new card was in hand too)."""
    account = await Account.get(email="alice@example.test")
    await add_card(services, sandbox, account, "4000056655665556")
    await billing_info.update_billing_info(admin_of(account), account.id, name="Alice Renamed")
    await expect(page.get_by_label("Company or full name")).to_have_value(
        "Alice Renamed", timeout=10_000
    )


async def test_a_live_update_waits_for_the_open_card_menu(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    # given a card's menu open, keyboard focus on its first item
    account, *_ = await plus_account(services, sandbox, open_invoice=False)
    portal = await start_portal()
    await sign_in(page, portal.url, await key_for(account))
    menu = await open_menu(page, "4444")
    await expect(menu.get_by_role("menuitem", name="Make default")).to_be_focused()

    # when a card is added elsewhere and the page has the new data
    await _changed_elsewhere(page, services, sandbox)

    # then the menu stays open and usable; the list waits
    await expect(menu).to_be_visible()
    await page.keyboard.press("ArrowDown")
    await expect(menu.get_by_role("menuitem", name="Edit")).to_be_focused()
    await expect(card_row(page, "5556")).to_have_count(0)

    # and once the menu closes the new card shows, focus back on the menu's button
    await page.keyboard.press("Escape")
    await expect(card_row(page, "5556")).to_be_visible()
    trigger = card_row(page, "4444").get_by_role("button", name=re.compile("Actions for"))
    await expect(trigger).to_be_focused()
    await expect(trigger).to_have_attribute("aria-expanded", "false")
    assert await axe_violations(page) == []
    await page.goto("about:blank")


async def test_a_live_update_waits_for_the_delete_confirmation(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    # given the delete confirmation open for a card
    account, *_ = await plus_account(services, sandbox, open_invoice=False)
    portal = await start_portal()
    await sign_in(page, portal.url, await key_for(account))
    menu = await open_menu(page, "4444")
    await menu.get_by_role("menuitem", name="Delete").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Visa ending in 4444 will be removed")

    # when a card is added elsewhere meanwhile
    await _changed_elsewhere(page, services, sandbox)
    await expect(dialog).to_be_visible()
    await expect(card_row(page, "5556")).to_have_count(0)

    # then cancelling returns focus to the card's menu button, and the new card shows
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(card_row(page, "5556")).to_be_visible()
    trigger = card_row(page, "4444").get_by_role("button", name=re.compile("Actions for"))
    await expect(trigger).to_be_focused()
    assert len(await PaymentMethod.filter(account_id=account.id).all()) == 3
    assert await axe_violations(page) == []
    await page.goto("about:blank")
