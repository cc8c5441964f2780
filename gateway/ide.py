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
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

__all__ = ["ASSETS_PREFIX", "IDE_PACKAGE_DIR", "assets_installed", "graphiql_html", "ide_routes"]

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
) -> str:
    """The GraphiQL page for ``endpoint``, loading its JS/CSS from ``assets_prefix``."""
    headers_json = json.dumps(
        DEFAULT_HEADERS if default_headers is None else default_headers, indent=2
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
         data-default-headers="{attr(headers_json)}">Loading GraphiQL&hellip;</div>
    <script src="{a}/react.production.min.js"></script>
    <script src="{a}/react-dom.production.min.js"></script>
    <script src="{a}/graphiql.min.js"></script>
    <script src="{a}/plugin-explorer.umd.js"></script>
    <script src="{a}/init.js"></script>
  </body>
</html>
"""


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
