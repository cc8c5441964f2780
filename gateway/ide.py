"""GraphiQL served from local assets (no CDN).

Strawberry's own GraphiQL page loads React and GraphiQL from unpkg/esm.sh, which a
closed network or a strict CSP blocks. This module renders an equivalent page whose
scripts and styles come from ``/static/graphiql/...``, served from the npm packages
that ``make setup`` installs (``npm ci`` in ``gateway/ide_assets``; pinned by its
``package-lock.json``, never committed).

Wiring (in the Starlette app)::

    routes = [..., *ide_routes()]

    class BillingGraphQL(strawberry.asgi.GraphQL):
        async def render_graphql_ide(self, request: Request) -> Response:
            return HTMLResponse(graphiql_html(request.url.path))

The page itself holds no inline script: ``/static/graphiql/init.js`` boots the IDE
from ``data-*`` attributes, so ``script-src 'self'`` is enough.

In demo mode (``billing-gateway demo``, which puts its keys on ``app.state``) the page
starts ready: the Headers tab holds the plus@demo.test admin key and three tabs hold the
billing page query, paying its open invoice, and a partner's page of accounts (with the
demo partner key). Nowhere else: not in development, never in production.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from models import Account, Invoice, InvoiceStatus
from resolvers.ids import to_global_id

__all__ = [
    "ASSETS_PREFIX",
    "IDE_PACKAGE_DIR",
    "assets_installed",
    "demo_tabs",
    "graphiql_html",
    "graphiql_page",
    "ide_routes",
]

#: Where ``package.json`` / ``package-lock.json`` live; ``npm ci`` fills ``node_modules``.
IDE_PACKAGE_DIR = Path(__file__).resolve().parent / "ide_assets"
#: URL prefix the assets are mounted at.
ASSETS_PREFIX = "/static/graphiql"

# URL path (under ASSETS_PREFIX) -> file, relative to node_modules. Only these are
# served: the whole node_modules tree is not exposed.
_NPM_ASSETS: dict[str, str] = {
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.js.map": "graphiql/graphiql.min.js.map",
    "graphiql.min.css": "graphiql/graphiql.min.css",
    "graphiql.min.css.map": "graphiql/graphiql.min.css.map",
    "plugin-explorer.umd.js": "@graphiql/plugin-explorer/dist/index.umd.js",
    "plugin-explorer.css": "@graphiql/plugin-explorer/dist/style.css",
}
# Our own boot script, committed next to package.json.
_LOCAL_ASSETS: dict[str, str] = {"init.js": "graphiql-init.js"}

_MISSING_TEXT = (
    "503 Service Unavailable: the GraphiQL assets are not installed.\n\n"
    "They come from the npm registry and are installed by the setup:\n\n"
    "    make setup\n\n"
    "(which runs `npm ci` in {dir}). The GraphQL endpoint itself works without them.\n"
)

DEFAULT_HEADERS = {
    "Authorization": "Bearer <paste a key from var/demo/demo-credentials.json>",
}

DEFAULT_QUERY = """\
# Billing gateway GraphiQL (assets served locally)
#
# Authenticate in the Headers tab below with
#   {"Authorization": "Bearer <api key>"}
# `make run` writes demo keys to
#   var/demo/demo-credentials.json
#
# Run: Ctrl-Enter   Autocomplete: Ctrl-Space

query Viewer {
  viewer {
    role
    account {
      id
      name
      tier
      paymentMethods {
        id
        brand
        last4
        isDefault
      }
    }
  }
}
"""


def _node_modules(package_dir: Path) -> Path:
    return package_dir / "node_modules"


def assets_installed(package_dir: Path = IDE_PACKAGE_DIR) -> bool:
    """True when ``npm ci`` has installed every file the page needs."""
    modules = _node_modules(package_dir)
    return all(
        (modules / rel).is_file() for name, rel in _NPM_ASSETS.items() if not name.endswith(".map")
    )


def graphiql_html(
    endpoint: str = "/graphql",
    *,
    assets_prefix: str = ASSETS_PREFIX,
    default_query: str = DEFAULT_QUERY,
    default_headers: dict[str, str] | None = None,
    default_tabs: list[dict[str, str]] | None = None,
) -> str:
    """The GraphiQL page for ``endpoint``, loading its JS/CSS from ``assets_prefix``.

    ``default_tabs`` (GraphiQL's ``defaultTabs``: query, variables and headers as strings)
    open on a first visit, when the browser has no tabs stored yet.
    """
    headers_json = json.dumps(
        DEFAULT_HEADERS if default_headers is None else default_headers, indent=2
    )
    tabs_attr = ""
    if default_tabs:
        tabs_attr = (
            f'\n         data-default-tabs="{html.escape(json.dumps(default_tabs), quote=True)}"'
        )

    def attr(value: str) -> str:
        return html.escape(value, quote=True)

    a = attr(assets_prefix.rstrip("/"))
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Billing gateway · GraphiQL</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="{a}/graphiql.min.css" />
    <link rel="stylesheet" href="{a}/plugin-explorer.css" />
    <style>
      body {{ height: 100%; margin: 0; width: 100%; overflow: hidden; }}
      #graphiql {{ height: 100vh; display: flex; }}
      .ide-error {{ padding: 2em; font: 16px/1.5 system-ui, sans-serif; color: #b00020; }}
    </style>
  </head>
  <body>
    <div id="graphiql"
         data-endpoint="{attr(endpoint)}"
         data-assets="{a}"
         data-default-query="{attr(default_query)}"
         data-default-headers="{attr(headers_json)}"{tabs_attr}>Loading GraphiQL&hellip;</div>
    <script src="{a}/react.production.min.js"></script>
    <script src="{a}/react-dom.production.min.js"></script>
    <script src="{a}/graphiql.min.js"></script>
    <script src="{a}/plugin-explorer.umd.js"></script>
    <script src="{a}/init.js"></script>
  </body>
</html>
"""


#: The demo account whose admin key the demo's GraphiQL starts with.
DEMO_ACCOUNT = "plus@demo.test"

DEMO_BILLING_PAGE = """\
# The billing page of plus@demo.test in one request: its admin key is in the Headers
# tab below. Run: Ctrl-Enter. The Docs pane (top left) describes every field.

query BillingPage {
  viewer {
    role
    account {
      id name tier selfServiceEnabled
      subscription {
        status paidFeaturesEnabled nextBillingDate
        nextBillingAmount { formatted }
        plan { name interval price { amount currency formatted } }
      }
      paymentMethods { id brand last4 expMonth expYear isDefault status }
      billingInfo { name email taxId address { line1 city postalCode country } }
      outstandingBalance { amount currency formatted }
      invoices(first: 5) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes {
          id number status periodStart
          total { formatted }
          amountDue { amount formatted }
          pdfUrl receiptUrl
        }
      }
    }
  }
}
"""

DEMO_PAY_INVOICE = """\
# Pay plus@demo.test's open invoice with its default card (the variables below hold
# the invoice's ID; OpenInvoices lists the payable ones). Run PayInvoice twice: the
# second answer is an InvoiceNotPayableError. Add "idempotencyKey" to the input to
# see a retry replay the first answer instead.

mutation PayInvoice($input: PayInvoiceInput!) {
  payInvoice(input: $input) {
    __typename
    ... on PayInvoiceSuccess {
      invoice { number status amountDue { formatted } }
      payment { status amount { formatted } nextAction { type clientSecret } }
    }
    ... on PaymentDeclinedError { declineCode payment { status failureMessage } }
    ... on UserError { code message field }
  }
}

query OpenInvoices {
  viewer {
    account { invoices(status: [OPEN]) { nodes { id number amountDue { formatted } } } }
  }
}
"""

DEMO_PARTNER_PAGE = """\
# A partner's view: this tab's Headers hold the demo partner key, which reads all
# four demo accounts. Page on with "after": the endCursor, while hasNextPage is true.

query PartnerPage($first: Int = 2, $after: String) {
  viewer {
    role
    accounts(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes {
        id name tier
        subscription { status paidFeaturesEnabled plan { name } }
        outstandingBalance { formatted }
        invoices(first: 3) { totalCount nodes { number status total { formatted } } }
      }
    }
  }
}
"""


def _bearer(key: str) -> str:
    return json.dumps({"Authorization": f"Bearer {key}"}, indent=2)


async def demo_tabs(settings: Any, credentials: Any) -> list[dict[str, str]] | None:
    """GraphiQL's first tabs in demo mode, or None anywhere else.

    Only when the app runs as the demo (``environment == "demo"``) *and* the demo server
    put its own keys on ``app.state.demo_credentials``: a development or production app
    never has them, so its page never carries a key.
    """
    if getattr(settings, "environment", None) != "demo" or not isinstance(credentials, dict):
        return None
    admin = credentials.get("accounts", {}).get(DEMO_ACCOUNT, {}).get("admin")
    partner = credentials.get("partner")
    if not isinstance(admin, str) or not isinstance(partner, str):
        return None
    return [
        {"query": DEMO_BILLING_PAGE, "variables": "", "headers": _bearer(admin)},
        {
            "query": DEMO_PAY_INVOICE,
            "variables": json.dumps({"input": {"invoiceId": await _open_invoice_id()}}, indent=2),
            "headers": _bearer(admin),
        },
        {
            "query": DEMO_PARTNER_PAGE,
            "variables": json.dumps({"first": 2, "after": None}, indent=2),
            "headers": _bearer(partner),
        },
    ]


async def _open_invoice_id() -> str:
    """The demo account's newest open invoice, for the pay tab's variables."""
    account = await Account.get_or_none(email=DEMO_ACCOUNT)
    invoice = None
    if account is not None:
        invoice = (
            await Invoice.filter(account_id=account.id, status=InvoiceStatus.OPEN)
            .order_by("-period_start", "-id")
            .first()
        )
    if invoice is None:
        return "run OpenInvoices and paste an id here"
    return to_global_id("Invoice", invoice.id)


async def graphiql_page(request: Request) -> str:
    """The page for a browser's GET /graphql: ready-made tabs in demo mode only."""
    state = request.app.state
    tabs = await demo_tabs(
        getattr(state, "settings", None), getattr(state, "demo_credentials", None)
    )
    if tabs is None:
        return graphiql_html(request.url.path)
    return graphiql_html(
        request.url.path,
        default_query=tabs[0]["query"],
        default_headers=json.loads(tabs[0]["headers"]),
        default_tabs=tabs,
    )


class _GraphiQLAssets:
    """ASGI app behind the Mount: serves the whitelisted files with StaticFiles.

    Checks the install on every request (cheap ``stat`` calls), so running
    ``make setup`` while the server runs is enough, and a missing install answers
    503 with instructions instead of failing at import or startup.
    """

    def __init__(self, package_dir: Path) -> None:
        self.package_dir = package_dir
        self.npm_files = StaticFiles(directory=_node_modules(package_dir), check_dir=False)
        self.local_files = StaticFiles(directory=package_dir, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = self.npm_files.get_path(scope).replace("\\", "/").lstrip("/")
        response: Response
        if name in _LOCAL_ASSETS:
            response = await self.local_files.get_response(_LOCAL_ASSETS[name], scope)
        elif not assets_installed(self.package_dir):
            response = PlainTextResponse(
                _MISSING_TEXT.format(dir=self.package_dir),
                status_code=503,
                headers={"Retry-After": "60", "Cache-Control": "no-store"},
            )
        elif name in _NPM_ASSETS:
            response = await self.npm_files.get_response(_NPM_ASSETS[name], scope)
        else:
            response = PlainTextResponse("Not Found", status_code=404)
        await response(scope, receive, send)


def ide_routes(package_dir: Path = IDE_PACKAGE_DIR) -> list[BaseRoute]:
    """Routes serving the GraphiQL assets under ``/static/graphiql``.

    Mount them only where GraphiQL is enabled (not in production mode).
    """
    return [Mount(ASSETS_PREFIX, app=_GraphiQLAssets(package_dir), name="graphiql-assets")]
