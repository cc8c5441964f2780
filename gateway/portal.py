"""GET /portal: the reference billing portal, a static single-page app on the public API.

The page is plain HTML, CSS and ES modules from ``gateway/portal/`` (no build step, no
CDN); everything it shows and changes goes through ``/graphql`` like any customer's own
front end would. Card data goes from the browser straight to the provider's JS, loaded
from ``paymentProvider.jsUrl``, which is why that origin (and only it) is added to the
page's Content-Security-Policy.

Routes::

    GET /portal                      the page, with a strict CSP
    GET /portal/assets/...           its CSS and modules (StaticFiles)
    GET /portal/demo-accounts.json   demo mode only: the demo keys, for the sign-in picker

The demo endpoint hands out API keys, so it lists none unless the app runs in demo
mode *and* the demo server put its credentials on ``app.state.demo_credentials``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

__all__ = ["PORTAL_DIR", "content_security_policy", "portal_routes"]

PORTAL_DIR = Path(__file__).resolve().parent / "portal"

#: What each demo account shows, for the sign-in picker (the README's table).
DEMO_DESCRIPTIONS: dict[str, str] = {
    "free@demo.test": "Free tier, one card: it may delete its default card.",
    "plus@demo.test": "Plus, monthly: two cards, paid history and one open invoice.",
    "enterprise@demo.test": "Enterprise: billing is managed by a sales representative.",
    "pastdue@demo.test": "Past due: the default card is declined, paid features are off.",
}

#: Stripe's documented CSP needs, when the page uses Stripe's own Stripe.js.
_STRIPE_JS_HOST = "js.stripe.com"
_STRIPE_EXTRA = {
    "connect-src": ("https://api.stripe.com",),
    "frame-src": ("https://js.stripe.com", "https://hooks.stripe.com"),
}


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(provider_js_url: str) -> str:
    """Only our own files, plus the provider's JS origin for its script, API calls and
    frames (the card form and the 3-D Secure challenge). No inline script or style."""
    provider = _origin(provider_js_url)
    extra: tuple[str, ...] = (provider,) if provider else ()
    is_stripe = urlsplit(provider_js_url).hostname == _STRIPE_JS_HOST
    directives: dict[str, tuple[str, ...]] = {
        "default-src": ("'none'",),
        "script-src": ("'self'", *extra),
        "style-src": ("'self'",),
        "img-src": ("'self'", "data:"),
        "font-src": ("'self'",),
        "connect-src": ("'self'", *extra, *(_STRIPE_EXTRA["connect-src"] if is_stripe else ())),
        "frame-src": (*extra, *(_STRIPE_EXTRA["frame-src"] if is_stripe else ())) or ("'none'",),
        "form-action": ("'self'",),
        "base-uri": ("'none'",),
        "frame-ancestors": ("'none'",),
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _provider_js_url(request: Request) -> str:
    """The URL GraphQL hands the browser (`paymentProvider.jsUrl`), so the CSP matches it."""
    services = getattr(request.app.state, "services", None)
    provider = getattr(services, "provider", None)
    js_url = getattr(provider, "js_url", None)
    if isinstance(js_url, str):
        return js_url
    return str(request.app.state.settings.stripe_js_url)


async def portal_page(request: Request) -> Response:
    return FileResponse(
        PORTAL_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": content_security_policy(_provider_js_url(request)),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


def demo_accounts(settings: Any, credentials: Any) -> list[dict[str, Any]] | None:
    """The picker's entries, or None when this is not a demo with known credentials."""
    if getattr(settings, "environment", None) != "demo" or not isinstance(credentials, dict):
        return None
    accounts = credentials.get("accounts")
    if not isinstance(accounts, dict):
        return None
    return [
        {
            "email": email,
            "description": DEMO_DESCRIPTIONS.get(email, ""),
            "keys": {role: key for role, key in keys.items() if role in {"admin", "viewer"}},
        }
        for email, keys in accounts.items()
        if isinstance(keys, dict)
    ]


async def demo_accounts_json(request: Request) -> Response:
    entries = demo_accounts(
        request.app.state.settings, getattr(request.app.state, "demo_credentials", None)
    )
    # 200 either way: the page asks on every sign-in, and a 404 is a console error.
    body = (
        {"demo": False, "accounts": []} if entries is None else {"demo": True, "accounts": entries}
    )
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def portal_routes(directory: Path = PORTAL_DIR) -> list[BaseRoute]:
    return [
        Route("/portal", portal_page, methods=["GET", "HEAD"]),
        Route("/portal/demo-accounts.json", demo_accounts_json, methods=["GET"]),
        Mount(
            "/portal/assets",
            app=StaticFiles(directory=directory / "assets", check_dir=False),
            name="portal-assets",
        ),
    ]
