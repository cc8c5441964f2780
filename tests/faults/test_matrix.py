"""Every money path under every provider fault: one charge at most, books that agree.

Given a path set up through the real services, when the proxy injects one fault on
that path's first provider call, then after the client's retry (where a client
would retry) and the reconciler: the provider holds exactly one succeeded charge for
the invoice, our invoice is PAID by exactly one SUCCEEDED payment with nothing left
unsettled, `find_drift` is empty, and the client only ever saw a typed error or the
final state. Each run appends a row to the matrix (tests/faults/matrix.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.sandbox import Sandbox
from gateway.settings import Settings
from models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    Plan,
    PlanChangeQuote,
    Subscription,
    SubscriptionStatus,
)
from services.card_setup import confirm_payment_method
from services.clock import FixedClock
from services.collection import CollectionReport, collect_due
from services.context import ServiceContext
from services.documents.pool import RenderPool
from services.drift import find_drift
from services.payments import STALE_PENDING_AFTER, pay_invoice
from services.plan_changes import preview_plan_change
from services.provider.stripe import StripeProvider
from services.reconcile import settle_stale
from services.renewals import renew_due
from tests.factories import (
    DECLINING_CARD,
    THREE_DS_CARD,
    add_card,
    admin_of,
    api_key,
    make_account,
    make_invoice,
    subscribe,
)
from tests.faults.matrix import FAULTS, PATHS, RETRIES, MatrixRow
from tests.faults.proxy import Fault, FaultProxy
from tests.graphql.helpers import gid
from tests.lifecycle.helpers import due_subscription
from tests.plan_change_helpers import catalogue
from tests.sandbox_browser import authenticate_payment, complete_setup_3ds

CHARGE = "/v1/payment_intents"
LOOKUP = "/v1/payment_intents/pi_[^/]+"
TYPED_ERRORS = {"PROVIDER_UNAVAILABLE", "PAYMENT_IN_PROGRESS"}
UNSETTLED = (PaymentStatus.PENDING, PaymentStatus.PROCESSING, PaymentStatus.REQUIRES_ACTION)

_RESULT = """
    __typename
    ... on PayInvoiceSuccess { invoice { status } payment { id status } }
    ... on UserError { code message }
"""
PAY_INVOICE = f"""
mutation Pay($invoiceId: ID!, $idempotencyKey: String) {{
  payInvoice(input: {{invoiceId: $invoiceId, idempotencyKey: $idempotencyKey}}) {{ {_RESULT} }}
}}
"""
CHANGE_PLAN = """
mutation Change($planId: ID!, $quoteId: String!, $idempotencyKey: String) {
  changePlan(input: {planId: $planId, quoteId: $quoteId, idempotencyKey: $idempotencyKey}) {
    __typename
    ... on ChangePlanSuccess { invoice { status } payment { id status } }
    ... on UserError { code message }
  }
}
"""
CONFIRM_PAYMENT = f"""
mutation Confirm($paymentId: ID!) {{
  confirmPayment(input: {{paymentId: $paymentId}}) {{ {_RESULT} }}
}}
"""


class Scenario:
    """One money path run against the proxy; `saw` collects what the caller was told."""

    def __init__(
        self,
        ctx: ServiceContext,
        clock: FixedClock,
        proxy: FaultProxy,
        sandbox: Sandbox,
        http: httpx.AsyncClient,
    ) -> None:
        self.ctx, self.clock, self.proxy, self.sandbox, self.http = ctx, clock, proxy, sandbox, http
        self.saw: list[str] = []
        self.subscription: Subscription | None = None
        self.target_plan_id: int | None = None  # changePlan: the plan it must end on

    async def mutation(self, query: str, name: str, key: str, **variables: Any) -> bool:
        """Send a mutation as a client would; True once it answered the final state."""
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200, response.text  # never a 500
        body = response.json()
        assert "errors" not in body, body  # never a masked top-level error
        result = body["data"][name]
        if result["__typename"] in ("PayInvoiceSuccess", "ChangePlanSuccess"):
            status = result["payment"]["status"]
            self.saw.append(f"{status}")
            return bool(status == "SUCCEEDED")
        assert result.get("code") in TYPED_ERRORS, result
        self.saw.append(result["code"])
        return False

    async def collect(self) -> None:
        report: CollectionReport = await collect_due(self.ctx)  # must not raise either
        assert report.attempted == 1, report
        assert set(report.errors) <= TYPED_ERRORS, report
        self.saw.append(
            f"worker: {report.errors[0]}" if report.errors else f"worker: {_outcome(report)}"
        )


def _outcome(report: CollectionReport) -> str:
    if report.succeeded:
        return "SUCCEEDED"
    return "REQUIRES_ACTION" if report.requires_action else "FAILED"


async def pay_invoice_path(s: Scenario, fault: Fault) -> Invoice:
    account = await make_account()
    await add_card(s.ctx, s.sandbox, account)
    invoice = await make_invoice(account)
    key = await api_key(account)
    variables = {"invoiceId": gid("Invoice", invoice.id), "idempotencyKey": "pay-once"}

    s.proxy.inject("POST", CHARGE, fault)
    done = await s.mutation(PAY_INVOICE, "payInvoice", key, **variables)
    await s.proxy.settle()
    if not done:  # the client retries with its key once the attempt counts as cut off
        s.clock.advance(STALE_PENDING_AFTER + timedelta(seconds=1))
        await s.mutation(PAY_INVOICE, "payInvoice", key, **variables)
    return invoice


async def confirm_payment_path(s: Scenario, fault: Fault) -> Invoice:
    account = await make_account()
    pm = await add_card(s.ctx, s.sandbox, account, THREE_DS_CARD)
    await complete_setup_3ds(s.sandbox, pm.setup_intent_id, pm.setup_client_secret)
    await confirm_payment_method(s.ctx, admin_of(account), pm.id)
    invoice = await make_invoice(account)
    key = await api_key(account)
    _, payment = await pay_invoice(s.ctx, admin_of(account), invoice.id)
    assert payment.status is PaymentStatus.REQUIRES_ACTION and payment.provider_payment_id
    secret = payment.next_action["client_secret"]
    await authenticate_payment(s.sandbox, payment.provider_payment_id, secret, success=True)
    payment_id = gid("Payment", payment.id)

    s.proxy.inject("GET", LOOKUP, fault)
    done = await s.mutation(CONFIRM_PAYMENT, "confirmPayment", key, paymentId=payment_id)
    await s.proxy.settle()
    if not done:  # the page asks again
        await s.mutation(CONFIRM_PAYMENT, "confirmPayment", key, paymentId=payment_id)
    return invoice


async def renewal_path(s: Scenario, fault: Fault) -> Invoice:
    account = await make_account()
    await add_card(s.ctx, s.sandbox, account)
    s.subscription = await due_subscription(account, s.clock.now())
    assert (await renew_due(s.ctx)).renewed == 1

    s.proxy.inject("POST", CHARGE, fault)
    await s.collect()
    return await Invoice.get(subscription_id=s.subscription.id)


async def dunning_retry_path(s: Scenario, fault: Fault) -> Invoice:
    account = await make_account()
    await add_card(s.ctx, s.sandbox, account, DECLINING_CARD)
    s.subscription = await due_subscription(account, s.clock.now())
    await renew_due(s.ctx)
    await collect_due(s.ctx)  # the renewal is declined: past due, a retry tomorrow
    await s.subscription.refresh_from_db()
    assert s.subscription.status is SubscriptionStatus.PAST_DUE
    await add_card(s.ctx, s.sandbox, account, make_default=True)  # the customer's new card
    s.clock.advance(timedelta(days=1))

    s.proxy.inject("POST", CHARGE, fault)
    await s.collect()
    return await Invoice.get(subscription_id=s.subscription.id)


async def change_plan_path(s: Scenario, fault: Fault) -> Invoice:
    account = await make_account()
    await add_card(s.ctx, s.sandbox, account)
    s.subscription = await subscribe(account)
    plans = await catalogue()
    s.target_plan_id = plans.plus_5k.id
    quote = await preview_plan_change(s.ctx, admin_of(account), None, plans.plus_5k.id)
    key = await api_key(account)
    variables = {
        "planId": gid("Plan", plans.plus_5k.id),
        "quoteId": quote.token,
        "idempotencyKey": "change-once",
    }

    s.proxy.inject("POST", CHARGE, fault)
    done = await s.mutation(CHANGE_PLAN, "changePlan", key, **variables)
    await s.proxy.settle()
    if not done:  # the client retries with its key once the attempt counts as cut off
        s.clock.advance(STALE_PENDING_AFTER + timedelta(seconds=1))
        await s.mutation(CHANGE_PLAN, "changePlan", key, **variables)
    used = await PlanChangeQuote.get(id=quote.id)
    assert used.invoice_id is not None
    return await Invoice.get(id=used.invoice_id)


_PATHS: dict[str, Callable[[Scenario, Fault], Awaitable[Invoice]]] = {
    "payInvoice": pay_invoice_path,
    "confirmPayment": confirm_payment_path,
    "renewal": renewal_path,
    "dunning retry": dunning_retry_path,
    "changePlan": change_plan_path,
}
assert tuple(_PATHS) == PATHS


@pytest.fixture
async def http(
    db: str, render_pool: RenderPool, clock: FixedClock
) -> AsyncIterator[Callable[[ServiceContext], httpx.AsyncClient]]:
    """The app on given services (its provider talks to the proxy), as an HTTP client."""
    clients: list[httpx.AsyncClient] = []

    def build(ctx: ServiceContext) -> httpx.AsyncClient:
        app = create_app(
            Settings(database_url=db), services=ctx, manage_db=False, renderer=render_pool
        )
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()


@pytest.mark.parametrize("retries", RETRIES, ids=lambda r: f"sdk_retries={r}")
@pytest.mark.parametrize("fault", FAULTS, ids=str)
@pytest.mark.parametrize("path", PATHS)
async def test_money_path_under_fault(
    path: str,
    fault: Fault,
    retries: int,
    db: str,
    sandbox: Sandbox,
    clock: FixedClock,
    fault_proxy: FaultProxy,
    fault_providers: dict[int, StripeProvider],
    http: Callable[[ServiceContext], httpx.AsyncClient],
    fault_matrix: list[MatrixRow],
) -> None:
    fault_proxy.reset()
    ctx = ServiceContext(provider=fault_providers[retries], clock=clock)
    s = Scenario(ctx, clock, fault_proxy, sandbox, http(ctx))

    invoice = await _PATHS[path](s, fault)
    assert fault_proxy.stats.injected, "the fault never fired"
    await fault_proxy.settle()
    clock.advance(ctx.policy.reconcile_after + timedelta(seconds=1))
    report = await settle_stale(ctx)
    await fault_proxy.settle()

    charges = [
        r for r in await ctx.provider.list_charges() if r.metadata["invoice_id"] == str(invoice.id)
    ]
    succeeded = [r.charge.payment_intent_id for r in charges if r.charge.status == "succeeded"]
    drift = await find_drift(ctx.provider)
    await invoice.refresh_from_db()
    payments = await Payment.filter(invoice_id=invoice.id).order_by("id")
    ours = [p for p in payments if p.status is PaymentStatus.SUCCEEDED]
    if s.subscription is not None:
        await s.subscription.refresh_from_db()
    row = MatrixRow(
        path=path,
        fault=fault,
        retries=retries,
        saw=" → ".join(s.saw),
        reconciler=f"settled {report.settled}" if report.examined else "nothing stale",
        charges=f"{len(succeeded)} / {len(charges)}",
        state=f"{invoice.status.value}; "
        + ", ".join(p.status.value for p in payments)
        + (f"; subscription {s.subscription.status.value}" if s.subscription else "")
        + (
            f" on {(await Plan.get(id=s.subscription.plan_id)).code}"
            if s.subscription and s.target_plan_id
            else ""
        ),
        drift="none" if not drift else ", ".join(d.kind for d in drift),
        passed=False,
    )

    # then exactly one charge at the provider, and our books say the same
    assert len(succeeded) == 1, row
    assert drift == [], row
    assert invoice.status is InvoiceStatus.PAID and invoice.amount_paid == invoice.total, row
    assert invoice.active_payment_id is None, row
    assert [p.provider_payment_id for p in ours] == succeeded, row
    assert not [p for p in payments if p.status in UNSETTLED], row
    assert report.errors == [], row
    if s.subscription is not None:
        assert s.subscription.status is SubscriptionStatus.ACTIVE, row
    if s.target_plan_id is not None:  # the money moved once, so the plan switched
        assert s.subscription is not None and s.subscription.plan_id == s.target_plan_id, row
    fault_matrix.append(dataclasses.replace(row, passed=True))
