"""The baseline: a hand-written Starlette + orjson endpoint that answers the benchmark's two
queries with the same JSON as the gateway, from the same database, with the same SQL
(the gateway's own batch functions), but no GraphQL: what is left is the GraphQL tax.

    uvicorn --factory bench.raw_app:app_factory      (BILLING_DATABASE_URL as for the gateway)

POST /raw/billing-page and /raw/partner answer `{"data": ...}` exactly as the
gateway answers bench.queries.BILLING_PAGE and PARTNER.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.db import close_db, init_db
from gateway.gc_tuning import tune_gc
from gateway.settings import get_settings
from models import Account, Invoice, Payment, PaymentMethod, Plan, Subscription
from resolvers import loaders
from resolvers.ids import to_global_id
from resolvers.invoice_pages import _fetch, page_key
from schema.types.common import format_money
from services import subscriptions
from services.auth import KeyHasher
from services.auth_cache import KEY_CACHE
from services.authenticator import Authenticator
from services.clock import SystemClock
from services.errors import Unauthenticated
from services.invoices import InvoicePage
from services.payment_methods import effective_status

_clock = SystemClock()
#: The gateway's own authentication, its per-process key cache included (shared code:
#: it makes both sides faster).
_auth = Authenticator(hasher=KeyHasher.development(), clock=_clock, cache=KEY_CACHE)


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency, "formatted": format_money(amount, currency)}


def _formatted(amount: int, currency: str) -> dict[str, Any]:
    return {"formatted": format_money(amount, currency)}


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


class _Data:
    """Everything both queries read for a list of accounts, in the gateway's statements."""

    def __init__(self) -> None:
        self.subs: dict[int, Subscription | None] = {}
        self.plans: dict[int, Plan | None] = {}
        self.cards: dict[int, list[PaymentMethod]] = {}
        self.pages: dict[int, InvoicePage] = {}
        self.lines: dict[int, list[Any]] = {}
        self.payments: dict[int, list[Payment]] = {}
        self.cards_by_id: dict[int, PaymentMethod] = {}
        self.due: dict[int, int] = {}

    async def load(self, accounts: Sequence[Account], size: int) -> None:
        ids = [a.id for a in accounts]
        subs = await loaders._subscriptions(ids)
        self.subs = dict(zip(ids, subs, strict=True))
        plan_ids = sorted({s.plan_id for s in subs if s is not None})
        self.plans = dict(zip(plan_ids, await loaders._plans(plan_ids), strict=True))
        self.cards = dict(zip(ids, await loaders._payment_methods(ids), strict=True))
        self.cards_by_id = {pm.id: pm for cards in self.cards.values() for pm in cards}
        _, size, statuses = page_key(ids[0], size, None)
        self.pages = await _fetch(ids, size, statuses)
        invoice_ids = [i.id for p in self.pages.values() for i in p.invoices]
        self.lines = dict(zip(invoice_ids, await loaders._lines(invoice_ids), strict=True))
        pays = await loaders._payments(invoice_ids)
        self.payments = dict(zip(invoice_ids, pays, strict=True))
        missing = sorted(
            {p.payment_method_id for ps in pays for p in ps if p.payment_method_id}
            - self.cards_by_id.keys()
        )
        if missing:
            for pm in await loaders._payment_methods_by_id(missing):
                if pm is not None:
                    self.cards_by_id[pm.id] = pm
        self.due = dict(zip(ids, await loaders._outstanding(ids), strict=True))

    def card_last4(self, payment: Payment) -> dict[str, Any] | None:
        pm = self.cards_by_id.get(payment.payment_method_id or 0)
        return None if pm is None else {"last4": pm.last4}


def _billing_page(account: Account, d: _Data) -> dict[str, Any]:
    now = _clock.now()
    sub = d.subs[account.id]
    subscription = None
    if sub is not None:
        plan = d.plans[sub.plan_id]
        assert plan is not None
        amount = subscriptions.next_billing_amount(sub, plan)
        subscription = {
            "status": sub.status.name,
            "paidFeaturesEnabled": subscriptions.paid_features_enabled(sub),
            "nextBillingDate": _iso(subscriptions.next_billing_date(sub)),
            "plan": {
                "name": plan.name,
                "price": _formatted(plan.price_amount, plan.currency),
                "interval": plan.interval.name,
            },
            "nextBillingAmount": (
                None if amount is None else _formatted(amount.amount, amount.currency)
            ),
        }
    page = d.pages[account.id]
    return {
        "name": account.name,
        "tier": account.tier.name,
        "selfServiceEnabled": account.tier.name != "ENTERPRISE",
        "subscription": subscription,
        "paymentMethods": [
            {
                "id": to_global_id("PaymentMethod", pm.id),
                "brand": pm.brand,
                "last4": pm.last4,
                "expMonth": pm.exp_month,
                "expYear": pm.exp_year,
                "isDefault": pm.is_default,
                "status": effective_status(pm, now).name,
            }
            for pm in d.cards[account.id]
        ],
        "outstandingBalance": _formatted(d.due[account.id], account.currency),
        "invoices": {
            "totalCount": page.total_count,
            "pageInfo": {
                "hasNextPage": page.has_next_page,
                "endCursor": page.cursors[-1] if page.cursors else None,
            },
            "edges": [{"node": _billing_invoice(inv, d)} for inv in page.invoices],
        },
    }


def _billing_invoice(inv: Invoice, d: _Data) -> dict[str, Any]:
    c = inv.currency
    return {
        "id": to_global_id("Invoice", inv.id),
        "number": inv.number or f"DRAFT-{inv.id}",
        "status": inv.status.name,
        "periodStart": _iso(inv.period_start),
        "periodEnd": _iso(inv.period_end),
        "paidAt": _iso(inv.paid_at),
        "total": _formatted(inv.total, c),
        "amountDue": _formatted(inv.amount_due, c),
        "lines": [
            {
                "description": ln.description,
                "quantity": ln.quantity,
                "amount": _formatted(ln.amount, c),
            }
            for ln in d.lines[inv.id]
        ],
        "payments": [
            {
                "status": p.status.name,
                "failureMessage": p.failure_message,
                "paymentMethod": d.card_last4(p),
            }
            for p in d.payments[inv.id]
        ],
    }


def _partner_account(account: Account, d: _Data) -> dict[str, Any]:
    now = _clock.now()
    sub = d.subs[account.id]
    subscription = None
    if sub is not None:
        plan = d.plans[sub.plan_id]
        assert plan is not None
        subscription = {
            "status": sub.status.name,
            "plan": {"name": plan.name, "price": _money(plan.price_amount, plan.currency)},
        }
    cards = d.cards[account.id]
    default = next((pm for pm in cards if pm.is_default), None)
    page = d.pages[account.id]
    return {
        "id": to_global_id("Account", account.id),
        "name": account.name,
        "subscription": subscription,
        "paymentMethods": [
            {
                "id": to_global_id("PaymentMethod", pm.id),
                "brand": pm.brand,
                "last4": pm.last4,
                "isDefault": pm.is_default,
                "status": effective_status(pm, now).name,
            }
            for pm in cards
        ],
        "defaultPaymentMethod": None
        if default is None
        else {"id": to_global_id("PaymentMethod", default.id), "last4": default.last4},
        "invoices": {
            "totalCount": page.total_count,
            "nodes": [
                {
                    "id": to_global_id("Invoice", inv.id),
                    "number": inv.number or f"DRAFT-{inv.id}",
                    "status": inv.status.name,
                    "total": {
                        "amount": inv.total,
                        "formatted": format_money(inv.total, inv.currency),
                    },
                    "lines": [
                        {"description": ln.description, "amount": _money(ln.amount, inv.currency)}
                        for ln in d.lines[inv.id]
                    ],
                    "payments": [
                        {"status": p.status.name, "paymentMethod": d.card_last4(p)}
                        for p in d.payments[inv.id]
                    ],
                }
                for inv in page.invoices
            ],
        },
        "outstandingBalance": _money(d.due[account.id], account.currency),
    }


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


async def billing_page(request: Request) -> Response:
    try:
        principal = await _auth.authenticate(request.headers.get("authorization"))
    except Unauthenticated as exc:
        return _json({"errors": [{"message": exc.message}]}, 401)
    if len(principal.account_ids) != 1:
        return _json({"data": {"viewer": {"account": None}}})
    (account,) = await loaders._accounts(list(principal.account_ids))
    assert account is not None
    d = _Data()
    await d.load([account], 12)
    return _json({"data": {"viewer": {"account": _billing_page(account, d)}}})


async def partner(request: Request) -> Response:
    try:
        principal = await _auth.authenticate(request.headers.get("authorization"))
    except Unauthenticated as exc:
        return _json({"errors": [{"message": exc.message}]}, 401)
    accounts = await Account.filter(id__in=list(principal.account_ids)).order_by("id").limit(100)
    d = _Data()
    if accounts:
        await d.load(accounts, 12)
    nodes = [_partner_account(a, d) for a in accounts]
    return _json({"data": {"viewer": {"accounts": {"nodes": nodes}}}})


def app_factory() -> Starlette:
    settings = get_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await init_db(settings.database_url)
        if settings.gc_gen0_threshold:  # the gateway's process setting, applied alike
            tune_gc(settings.gc_gen0_threshold)
        try:
            yield
        finally:
            await close_db()

    return Starlette(
        routes=[
            Route("/raw/billing-page", billing_page, methods=["POST"]),
            Route("/raw/partner", partner, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
