"""The portal's plan change, cancellation and card edit, in chromium: the plans side by
side, the preview with its lines and the amount due today, confirm (3-D Secure when the
bank asks), cancel with a reason and undo, and "Edit" in a card's "…" menu. Each step is
checked with axe (WCAG 2.1 AA) and against what the gateway recorded."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from gateway.sandbox import Sandbox
from models import (
    ApiKeyRole,
    CancellationReason,
    Invoice,
    InvoiceStatus,
    PaymentMethod,
    Subscription,
)
from services.context import ServiceContext
from tests.factories import THREE_DS_CARD, api_key
from tests.plan_change_helpers import catalogue
from tests.portal.axe import axe_violations
from tests.portal.conftest import PortalFactory, requires_chromium, save_screenshot
from tests.portal.helpers import card_row, fill_card, key_for, open_menu, plus_account, sign_in
from tests.portal.helpers import status as status_region

pytestmark = requires_chromium


async def _signed_in(page: Page, start_portal: PortalFactory, services, sandbox, **kw):
    plans = await catalogue()
    account, sub, pms, _ = await plus_account(
        services, sandbox, paid_invoices=0, open_invoice=False, **kw
    )
    portal = await start_portal()
    await sign_in(page, portal.url, await key_for(account))
    return plans, account, sub, pms


async def test_upgrade_with_a_preview_of_what_is_due_today(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    plans, account, sub, _ = await _signed_in(page, start_portal, services, sandbox)
    section = page.get_by_role("region", name="Subscription")

    # the plans side by side, the current one marked
    await section.get_by_role("button", name="Change plan").click()
    panel = page.get_by_role("region", name="Change plan")
    await expect(panel.locator("li[data-plan='plus-monthly']")).to_contain_text("Your current plan")
    await expect(panel.locator("li[data-plan='enterprise-monthly']")).to_contain_text(
        "Contact sales"
    )
    assert await axe_violations(page, "#plan-change") == []

    # the preview: the credit, the charge and the amount due today
    await panel.locator("li[data-plan='plus-5k']").get_by_role("button").click()
    await expect(panel).to_contain_text("Unused time on Plus monthly")
    await expect(panel).to_contain_text("-$19.33")
    await expect(panel).to_contain_text("Remaining time on Plus 5K (monthly)")
    await expect(panel.locator(".amount-due")).to_have_text("$46.67")
    await expect(panel).to_contain_text("Next bill: $99.00")
    assert await axe_violations(page, "#plan-change") == []
    await save_screenshot(page, "plan-change-preview")
    assert (await Subscription.get(id=sub.id)).plan_id == plans.plus.id  # nothing yet

    await panel.get_by_role("button", name="Confirm and pay $46.67").click()

    await expect(status_region(page)).to_have_text("You are now on Plus 5K (monthly).")
    await expect(section).to_contain_text("Plus 5K (monthly)")
    await expect(panel).to_be_hidden()
    assert (await Subscription.get(id=sub.id)).plan_id == plans.plus_5k.id
    (invoice,) = await Invoice.filter(account_id=account.id)
    assert (invoice.status, invoice.total) == (InvoiceStatus.PAID, 4667)


async def test_upgrade_with_3ds_failed_then_passed(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    plans, account, sub, _ = await _signed_in(
        page, start_portal, services, sandbox, cards=("4242424242424242",)
    )
    await page.get_by_role("button", name="Add a payment method").click()
    await fill_card(page, THREE_DS_CARD)
    await page.get_by_label("Make this my default payment method").check()
    await page.get_by_role("button", name="Save card").click()
    await page.get_by_role("button", name="Complete authentication").click()
    await expect(card_row(page, "3184")).to_contain_text("Default")
    section = page.get_by_role("region", name="Subscription")
    panel = page.get_by_role("region", name="Change plan")

    async def upgrade() -> None:
        await section.get_by_role("button", name="Change plan").click()
        await panel.locator("li[data-plan='plus-5k']").get_by_role("button").click()
        await panel.get_by_role("button", name=re.compile("^Confirm and pay")).click()

    # failing the bank's check changes nothing and leaves nothing to pay
    await upgrade()
    await page.get_by_role("button", name="Fail authentication").click()
    await expect(status_region(page)).to_contain_text("Your plan was not changed.")
    assert (await Subscription.get(id=sub.id)).plan_id == plans.plus.id
    assert [i.status for i in await Invoice.filter(account_id=account.id)] == [InvoiceStatus.VOID]

    # passing it switches the plan
    await panel.get_by_role("button", name="Close").click()
    await upgrade()
    await page.get_by_role("button", name="Complete authentication").click()
    await expect(status_region(page)).to_have_text("You are now on Plus 5K (monthly).")
    assert (await Subscription.get(id=sub.id)).plan_id == plans.plus_5k.id


async def test_downgrade_is_scheduled_and_can_be_undone(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    plans, _, sub, _ = await _signed_in(page, start_portal, services, sandbox)
    section = page.get_by_role("region", name="Subscription")

    await section.get_by_role("button", name="Change plan").click()
    panel = page.get_by_role("region", name="Change plan")
    await panel.locator("li[data-plan='free-monthly']").get_by_role("button").click()
    await expect(panel).to_contain_text("Nothing is charged today")
    await expect(panel).to_contain_text("Due today: $0.00")
    await panel.get_by_role("button", name="Confirm change").click()

    banner = section.get_by_role("region", name=re.compile("^Your plan changes to"))
    await expect(banner).to_be_visible()
    assert (await Subscription.get(id=sub.id)).pending_plan_id == plans.free.id
    assert await axe_violations(page, "#subscription") == []

    await banner.get_by_role("button", name="Keep Plus monthly").click()
    await expect(status_region(page)).to_contain_text("You stay on Plus monthly")
    await expect(banner).to_be_hidden()
    assert (await Subscription.get(id=sub.id)).pending_plan_id is None


async def test_cancel_with_a_reason_then_resume(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    _, _, sub, _ = await _signed_in(page, start_portal, services, sandbox)
    section = page.get_by_role("region", name="Subscription")

    await section.get_by_role("button", name="Cancel subscription").click()
    form = page.get_by_role("region", name="Cancel your subscription")
    await expect(form).to_contain_text("features stay on until")
    assert await axe_violations(page, "#subscription") == []

    # a reason is required, and said so next to the field
    await form.get_by_role("button", name="Cancel subscription").click()
    reason = form.get_by_label("Why are you canceling?")
    await expect(reason).to_have_attribute("aria-invalid", "true")
    await expect(reason).to_be_focused()
    await expect(form).to_contain_text("Choose a reason.")

    await reason.select_option("TOO_EXPENSIVE")
    await form.get_by_label(re.compile("Anything else")).fill("Too pricey for us")
    await form.get_by_role("button", name="Cancel subscription").click()

    banner = section.get_by_role("region", name=re.compile("^Your subscription ends on"))
    await expect(banner).to_be_visible()
    await expect(section.get_by_role("button", name="Cancel subscription")).to_be_hidden()
    await sub.refresh_from_db()
    assert sub.cancel_at_period_end and sub.cancellation_reason is CancellationReason.TOO_EXPENSIVE
    assert sub.cancellation_comment == "Too pricey for us"
    assert await axe_violations(page, "#subscription") == []
    await save_screenshot(page, "subscription-canceling")

    await banner.get_by_role("button", name="Resume subscription").click()
    await expect(status_region(page)).to_contain_text("Your subscription continues")
    await expect(banner).to_be_hidden()
    await sub.refresh_from_db()
    assert not sub.cancel_at_period_end


async def test_edit_a_card_from_its_menu(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    _, _, _, pms = await _signed_in(page, start_portal, services, sandbox)
    await PaymentMethod.filter(id=pms[0].id).update(exp_month=1, exp_year=2025)  # ran out
    await page.reload()
    await expect(card_row(page, "4242")).to_contain_text("Expired")

    menu = await open_menu(page, "4242")
    await menu.get_by_role("menuitem", name="Edit").click()
    panel = page.get_by_role("region", name=re.compile("^Edit Visa ending in 4242"))
    assert await axe_violations(page, "#payment-methods") == []

    # a month that does not exist is refused next to its field, and nothing changes
    await panel.get_by_label("Expiry month").fill("13")
    await panel.get_by_label("Expiry year").fill("2031")
    await panel.get_by_role("button", name="Save card").click()
    month = panel.get_by_label("Expiry month")
    await expect(month).to_have_attribute("aria-invalid", "true")
    await expect(month).to_be_focused()
    assert (await PaymentMethod.get(id=pms[0].id)).exp_month == 1

    # a real future month and an ISO country make the card usable again
    await month.fill("3")
    await panel.get_by_label("Billing country code").fill("de")
    await panel.get_by_role("button", name="Save card").click()
    await expect(status_region(page)).to_have_text("Visa ending in 4242 is updated.")
    await expect(card_row(page, "4242")).not_to_contain_text("Expired")
    saved = await PaymentMethod.get(id=pms[0].id)
    assert (saved.exp_month, saved.exp_year, saved.address_country) == (3, 2031, "DE")


async def test_viewer_sees_no_plan_actions(
    page: Page, start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox
) -> None:
    account, *_ = await plus_account(services, sandbox)
    portal = await start_portal()
    await sign_in(page, portal.url, await api_key(account, ApiKeyRole.VIEWER))

    section = page.get_by_role("region", name="Subscription")
    await expect(section).to_contain_text("Plus monthly")
    await expect(section.get_by_role("button", name="Change plan")).to_be_hidden()
    await expect(section.get_by_role("button", name="Cancel subscription")).to_be_hidden()
