"""HTML templates + print CSS → PDF, with WeasyPrint. Runs in a render worker process.

WeasyPrint is not thread-safe and pins a core while it lays out a page (weasyprint
#684), so the gateway never calls this module on its event loop: `pool.py` sends
jobs here. Rendering never reaches the network: `AssetFetcher` serves the package's
own assets (stylesheet, fonts, the configured logo) by name and refuses every other
URL, and Jinja2 autoescapes every customer field, so a billing name cannot become
markup, let alone a fetch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_interval
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from services.documents.content import (
    Card,
    DocumentKind,
    ReceiptContent,
    RenderJob,
)
from services.money import Money

TEMPLATES_DIR = Path(__file__).with_name("templates")
#: Checked in order: fonts shipped next to the package (optional), then the system's
#: DejaVu (Debian/Ubuntu `fonts-dejavu-core`, Fedora, Arch).
FONT_DIRS = (
    Path(__file__).with_name("fonts"),
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
_FONT_FILES = {
    ("normal", 400): "DejaVuSans.ttf",
    ("normal", 700): "DejaVuSans-Bold.ttf",
    ("italic", 400): "DejaVuSans-Oblique.ttf",
}
ASSET_PREFIX = "asset:"
_BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "diners": "Diners Club",
    "jcb": "JCB",
    "unionpay": "UnionPay",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str


class AssetRefused(ValueError):
    """A URL that is not one of the document's own assets."""


class AssetFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """WeasyPrint's URL fetcher, reduced to a fixed map of `asset:` URLs.

    Anything else (http, file, data, a relative path) raises; WeasyPrint logs the
    refusal and leaves the resource out. `requested` records every URL asked for.
    """

    def __init__(self, assets: Mapping[str, Asset]) -> None:
        super().__init__(allowed_protocols=("asset",), allow_redirects=False)
        self._assets = dict(assets)
        self.requested: list[str] = []

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        self.requested.append(url)
        asset = self._assets.get(url)
        if asset is None:
            raise AssetRefused(f"not a document asset: {url[:200]}")
        return URLFetcherResponse(url, body=asset.body, headers={"Content-Type": asset.media_type})


@cache
def _font_files() -> tuple[tuple[str, int, Path], ...]:
    """(style, weight, path) of the DejaVu Sans faces, from the first directory holding them."""
    for directory in FONT_DIRS:
        found = tuple(
            (style, weight, directory / name)
            for (style, weight), name in _FONT_FILES.items()
            if (directory / name).is_file()
        )
        if found:
            return found
    return ()  # the stylesheet falls back to fontconfig's "DejaVu Sans", then sans-serif


@cache
def _static_assets() -> dict[str, Asset]:
    assets = {
        f"{ASSET_PREFIX}style.css": Asset((TEMPLATES_DIR / "style.css").read_bytes(), "text/css")
    }
    for _, _, path in _font_files():
        assets[f"{ASSET_PREFIX}fonts/{path.name}"] = Asset(path.read_bytes(), "font/ttf")
    return assets


def asset_map(job: RenderJob) -> dict[str, Asset]:
    """Every URL the fetcher will serve for this job; nothing else exists."""
    assets = dict(_static_assets())
    logo = job.options.logo
    if logo is not None:
        assets[f"{ASSET_PREFIX}logo"] = Asset(logo.data, logo.media_type)
    return assets


def _as_date(value: datetime) -> Any:
    return value.astimezone(UTC).date()


@pass_context
def _money_filter(ctx: Context, amount: int, currency: str) -> str:
    return Money(amount, currency).format(ctx["locale"])


@pass_context
def _date_filter(ctx: Context, value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return "—"
    return str(format_date(_as_date(value), format=fmt, locale=ctx["locale"]))


@pass_context
def _period_filter(ctx: Context, start: datetime, end: datetime) -> str:
    return str(format_interval(_as_date(start), _as_date(end), "yMMMd", locale=ctx["locale"]))


def card_label(card: Card | None) -> str:
    if card is None:
        return "Card"
    brand = _BRANDS.get(card.brand.lower(), card.brand.title() or "Card")
    return f"{brand} •••• {card.last4}"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template is HTML; customer text is escaped everywhere
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = _money_filter
    env.filters["date"] = _date_filter
    env.filters["period"] = _period_filter
    env.filters["card"] = card_label
    return env


def _context(job: RenderJob) -> dict[str, Any]:
    options = job.options
    invoice = job.content.invoice if isinstance(job.content, ReceiptContent) else job.content
    context: dict[str, Any] = {
        "seller": options.seller,
        "has_logo": options.logo is not None,
        "paper": "letter" if options.paper == "Letter" else "A4",
        "locale": options.locale,
        "font_faces": [
            {"url": f"{ASSET_PREFIX}fonts/{path.name}", "style": style, "weight": weight}
            for style, weight, path in _font_files()
        ],
        "inv": invoice,
    }
    if isinstance(job.content, ReceiptContent):
        context["rcpt"] = job.content
    return context


def render_html(job: RenderJob) -> str:
    name = "receipt.html" if job.kind is DocumentKind.RECEIPT else "invoice.html"
    if (job.kind is DocumentKind.RECEIPT) != isinstance(job.content, ReceiptContent):
        raise TypeError(f"a {job.kind} job needs {name}'s content")
    return _environment().get_template(name).render(_context(job))


def render_pdf(job: RenderJob, *, fetcher: AssetFetcher | None = None) -> bytes:
    """The PDF for one job. Same job, same machine setup: same bytes."""
    html = HTML(string=render_html(job), url_fetcher=fetcher or AssetFetcher(asset_map(job)))
    # A FontConfiguration per document: the @font-face rules register the faces on it.
    document = html.render(font_config=FontConfiguration())
    return bytes(document.write_pdf())
