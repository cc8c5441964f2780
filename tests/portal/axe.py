"""WCAG 2.1 AA checks with axe-core, injected into a Playwright page.

axe-core comes from the npm registry into tests/portal/axe/node_modules (`npm ci` there;
`make setup` does it). Without it the check fails loudly rather than pass unchecked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


async def axe_violations(page: Page, selector: str | None = None) -> list[dict[str, Any]]:
    """The WCAG 2.1 A/AA violations axe finds in the page (or in `selector`)."""
    assert AXE.exists(), f"axe-core is missing: run `npm ci` in {AXE.parents[2]}"
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated, not a <script>: the portal's CSP allows no inline script.
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = await page.evaluate(
        """([selector, tags]) => axe.run(selector ? document.querySelector(selector) : document,
               {runOnly: {type: "tag", values: tags}})""",
        [selector, WCAG_21_AA],
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]
