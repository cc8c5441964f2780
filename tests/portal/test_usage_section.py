"""The portal's Usage section in chromium: the meter bar, the period, the projected charge,
the overage switch with its cap, the notification thresholds and the notifications."""

from __future__ import annotations

import os
import re
import shutil

from playwright.async_api import Page, expect

from models import ApiKeyRole, OverageSetting, PlanTier, UsageNotificationSetting
from services.context import ServiceContext
from services.usage.overage import update_overage_settings
from tests.factories import admin_of, api_key
from tests.portal.axe import axe_violations
from tests.portal.conftest import ROOT, PortalFactory, requires_chromium, save_screenshot
from tests.portal.helpers import sign_in, status
from tests.usage.helpers import event, metered_account, report

pytestmark = requires_chromium

USAGE_SHOT = ROOT / "docs" / "usage.png"


async def test_usage_section_shows_meters_and_changes_settings(
    page: Page, start_portal: PortalFactory, services: ServiceContext
) -> None:
    # given a Plus account past its 1,000 credits with overage on under a $50 cap
    account, _ = await metered_account()
    await update_overage_settings(
        services, admin_of(account), account, enabled=True, monthly_cap=5000
    )
    await report(services, event(account, "e1", "1000"), event(account, "e2", "100"))
    portal = await start_portal()
    await sign_in(page, portal.url, await api_key(account))
    usage = page.get_by_role("region", name="Usage")

    # then the bar, the period, the projected charge and the notifications are shown
    await expect(usage).to_contain_text("1,100 of 1,000 credits used")
    await expect(usage.get_by_role("meter", name="Credits")).to_have_attribute(
        "aria-valuetext", re.compile("110 %")
    )
    await expect(usage.locator(".meter-over")).to_have_count(1)
    await expect(usage).to_contain_text("Projected overage charge")
    await expect(usage).to_contain_text("$4.00")
    await expect(
        usage.get_by_role("list", name="Notifications").get_by_role("listitem")
    ).to_have_count(4)
    await expect(usage).to_contain_text("billed at $0.04")
    assert await axe_violations(page, "#usage") == []
    path = await save_screenshot(page, "usage")
    await usage.screenshot(path=str(path), animations="disabled")
    if os.environ.get("BILLING_UPDATE_README_SCREENSHOT") == "1":  # as for docs/portal.png
        USAGE_SHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, USAGE_SHOT)

    # when the cap is set below what accrued, the field says why and nothing changes
    cap = usage.get_by_label("Spending cap per billing period (USD)")
    await cap.fill("1")
    await usage.get_by_role("button", name="Save overage").click()
    await expect(cap).to_have_attribute("aria-invalid", "true")
    await expect(usage.locator("#overage-cap-error")).to_contain_text("below the overage already")
    assert (await OverageSetting.get(account_id=account.id)).monthly_cap == 5000

    # and a good cap is saved
    await cap.fill("75")
    await usage.get_by_role("button", name="Save overage").click()
    await expect(status(page)).to_have_text("Overage settings saved.")
    assert (await OverageSetting.get(account_id=account.id)).monthly_cap == 7500

    # thresholds: out of range is refused on the field, then saved
    levels = usage.get_by_label("Notify me at these percentages of my allowance")
    await levels.fill("0, 50")
    await usage.get_by_role("button", name="Save notifications").click()
    await expect(levels).to_have_attribute("aria-invalid", "true")
    await levels.fill("50, 75")
    await usage.get_by_label("Also send them by email").uncheck()
    await usage.get_by_role("button", name="Save notifications").click()
    await expect(status(page)).to_have_text("Notification settings saved.")
    setting = await UsageNotificationSetting.get(account_id=account.id)
    assert (setting.thresholds, setting.email) == ([50, 75], False)
    assert await axe_violations(page, "#usage") == []


async def test_free_and_viewers_read_only(
    page: Page, start_portal: PortalFactory, services: ServiceContext
) -> None:
    account, _ = await metered_account(tier=PlanTier.FREE)
    await report(services, event(account, "e1", "50"))
    portal = await start_portal()
    await sign_in(page, portal.url, await api_key(account, ApiKeyRole.VIEWER))
    usage = page.get_by_role("region", name="Usage")

    await expect(usage).to_contain_text("50 of 50 credits used")
    await expect(usage).to_contain_text("Blocked")
    await expect(usage).to_contain_text("Your plan has no overage")
    await expect(usage.get_by_role("button", name="Save overage")).to_have_count(0)
    await expect(usage.get_by_role("button", name="Save notifications")).to_have_count(0)
    await expect(usage.get_by_role("listitem").filter(has_text="Upgrade")).not_to_have_count(0)
    assert await axe_violations(page, "#usage") == []
