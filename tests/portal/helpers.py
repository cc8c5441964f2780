"""Seeding and page helpers for the portal tests."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import Locator, Page, expect

from gateway.sandbox import Sandbox
from models import Account, Invoice, InvoiceStatus, PaymentMethod, PlanTier, Subscription
from services import payments
from services.context import ServiceContext
from tests.conftest import NOW
from tests.factories import (
    OK_CARD,
    add_card,
    admin_of,
    api_key,
    make_account,
    make_invoice,
    subscribe,
)

MASTERCARD = "5555555555554444"


async def plus_account(
    services: ServiceContext,
    sandbox: Sandbox,
    *,
    email: str = "alice@example.test",
    cards: tuple[str, ...] = (OK_CARD, MASTERCARD),
    paid_invoices: int = 2,
    open_invoice: bool = True,
) -> tuple[Account, Subscription, list[PaymentMethod], list[Invoice]]:
    """PLUS, active, cards added through the real path (the first is the default), a paid
    history through the real payment path and one open invoice (newest)."""
    account = await make_account(email, name="Alice Ltd")
    await Account.filter(id=account.id).update(
        address_line1="1 Market Street",
        address_city="San Francisco",
        address_state="CA",
        address_postal_code="94105",
        address_country="US",
    )
    sub = await subscribe(account)
    pms = [
        await add_card(services, sandbox, account, number, make_default=index == 0)
        for index, number in enumerate(cards)
    ]
    invoices = []
    for months_ago in range(paid_invoices, 0, -1):
        invoice = await make_invoice(
            account, subscription=sub, period_start=NOW - timedelta(days=10 + 30 * months_ago)
        )
        await payments.pay_invoice(services, admin_of(account), invoice.id)
        invoices.append(invoice)
    if open_invoice:
        invoices.append(await make_invoice(account, subscription=sub))
    return account, sub, pms, invoices


async def free_account(services: ServiceContext, sandbox: Sandbox) -> Account:
    account = await make_account("free@example.test", tier=PlanTier.FREE, name="Free Person")
    await add_card(services, sandbox, account, OK_CARD, make_default=True)
    return account


async def sign_in(page: Page, portal_url: str, key: str) -> None:
    """Open the portal already signed in (the token field is tested on its own)."""
    await page.goto(portal_url)
    await page.evaluate("key => sessionStorage.setItem('billing-portal.token', key)", key)
    await page.reload()
    await expect(page.get_by_role("heading", name="Billing", exact=True)).to_be_visible()


async def key_for(account: Account) -> str:
    return await api_key(account)


def card_row(page: Page, last4: str) -> Locator:
    return page.locator(f"li.pm[data-last4='{last4}']")


def invoice_row(page: Page, number: str) -> Locator:
    return page.locator(f"tr[data-invoice='{number}']")


def status(page: Page) -> Locator:
    return page.get_by_role("status")


async def open_menu(page: Page, last4: str) -> Locator:
    await (
        card_row(page, last4)
        .get_by_role("button", name=re.compile(f"Actions for .* {last4}"))
        .click()
    )
    menu = card_row(page, last4).get_by_role("menu")
    await expect(menu).to_be_visible()
    return menu


async def fill_card(page: Page, number: str, exp_month: str = "12", exp_year: str = "30") -> None:
    """Type into the provider's card form (the sandbox's stand-in: plain inputs)."""
    form = page.locator("#card-element")
    await form.get_by_label("Card number").fill(number)
    await form.get_by_label("Expiry month (MM)").fill(exp_month)
    await form.get_by_label("Expiry year (YY)").fill(exp_year)
    await form.get_by_label("Security code (CVC)").fill("123")
    await form.get_by_label("Postal code").fill("94105")


async def open_invoices(account: Account) -> list[Invoice]:
    return await Invoice.filter(account_id=account.id, status=InvoiceStatus.OPEN).all()
