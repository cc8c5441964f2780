"""GraphiQL in demo mode, in a real browser: it opens with the demo's tabs and the admin
key, runs the billing page query as plus@demo.test, and its Docs pane shows payInvoice's
description with the error codes it can answer.

`BILLING_UPDATE_README_SCREENSHOT=1` also saves the Docs pane as docs/graphiql-docs.png
(the README's screenshot)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from gateway.demo import seed_if_absent, write_credentials
from gateway.ide import assets_installed
from gateway.sandbox import Sandbox
from services.context import ServiceContext
from tests.conftest import NOW
from tests.portal.conftest import ROOT, PortalFactory, requires_chromium, save_screenshot

README_SHOT = ROOT / "docs" / "graphiql-docs.png"

pytestmark = [
    requires_chromium,
    pytest.mark.skipif(
        not assets_installed(), reason="GraphiQL assets not installed (make setup: npm ci)"
    ),
]


async def _visible_editor_text(page: Page, container: str) -> str:
    """The text of the shown CodeMirror editor inside `container` (GraphiQL keeps the
    hidden ones in the page)."""
    text: str = await page.locator(container).evaluate(
        """root => [...root.querySelectorAll('.graphiql-editor:not(.hidden) .CodeMirror')]
            .map(el => el.CodeMirror.getValue()).join('\\n')"""
    )
    return text


async def _widen_docs_pane(page: Page, *, by: int) -> None:
    """Drag the bar between the Docs pane and the editors to the right."""
    bar = page.locator(".graphiql-horizontal-drag-bar").first
    box = await bar.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + by, y, steps=5)
    await page.mouse.up()


async def test_demo_graphiql_opens_ready_and_documents_pay_invoice(
    start_portal: PortalFactory,
    services: ServiceContext,
    sandbox: Sandbox,
    tmp_path: Path,
    page: Page,
) -> None:
    # given the demo's data and keys, served in demo mode
    assert await seed_if_absent(services, sandbox.api_base, sandbox.secret_key)
    credentials = await write_credentials(tmp_path / "demo-credentials.json", NOW)
    admin = credentials["accounts"]["plus@demo.test"]["admin"]
    portal = await start_portal(environment="demo", demo_credentials=credentials)

    # when a browser opens GraphiQL for the first time
    await page.goto(f"{portal.base_url}/graphql")

    # then three tabs are open: the billing page, paying an invoice, a partner's page
    tabs = page.locator(".graphiql-tab")
    await expect(tabs).to_have_count(3)
    await expect(tabs.nth(0)).to_contain_text("BillingPage")
    await expect(tabs.nth(1)).to_contain_text("PayInvoice")
    await expect(tabs.nth(2)).to_contain_text("PartnerPage")
    # and the Headers tab holds the plus@demo.test admin key
    await page.get_by_role("button", name="Headers", exact=True).click()
    headers = await _visible_editor_text(page, ".graphiql-editor-tool")
    assert f"Bearer {admin}" in headers

    # when the billing page query runs
    await page.locator(".graphiql-execute-button").click()

    # then it answers as plus@demo.test
    result = page.locator(".result-window")
    await expect(result).to_contain_text("Plus Demo Inc.")
    await expect(result).not_to_contain_text('"errors"')

    # when the Docs pane is opened on payInvoice, beside the tab that pays
    await page.set_viewport_size({"width": 1440, "height": 960})
    await tabs.nth(1).click()
    await page.get_by_role("button", name="Show Documentation Explorer").click()
    explorer = page.locator(".graphiql-doc-explorer")
    await explorer.get_by_role("link", name="Mutation", exact=True).click()
    await explorer.get_by_role("link", name="payInvoice", exact=True).click()

    # then it describes the mutation and each error code it can answer
    await expect(explorer).to_contain_text("Pay an OPEN invoice")
    for code in ("PAYMENT_METHOD_REQUIRED", "INVOICE_NOT_PAYABLE", "PAYMENT_DECLINED"):
        await expect(explorer).to_contain_text(code)
    await _widen_docs_pane(page, by=260)
    await explorer.locator(".graphiql-doc-explorer-title").scroll_into_view_if_needed()
    shot = await save_screenshot(page, "graphiql-docs-pay-invoice", full_page=False)
    if os.environ.get("BILLING_UPDATE_README_SCREENSHOT") == "1":
        shutil.copyfile(shot, README_SHOT)
