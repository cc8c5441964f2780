"""kill -9 at each point of an upgrade's payment path, retry, reconcile: one charge, and the
plan switched exactly when the money moved (as tests/faults/test_crashes.py does for
payInvoice: a real gateway process armed with `BILLING_TEST_CRASH_AT`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from gateway.sandbox import Sandbox
from models import Invoice, InvoiceStatus, Payment, PaymentStatus, PlanChangeQuote, Subscription
from services._crashpoints import CRASH_POINTS
from services.clock import FixedClock, SystemClock
from services.context import ServiceContext
from services.drift import find_drift
from services.plan_changes import preview_plan_change
from services.provider.stripe import StripeProvider
from services.reconcile import settle_stale
from tests.factories import add_card, admin_of, api_key, make_account
from tests.faults.processes import Gateway
from tests.faults.proxy import FaultProxy
from tests.graphql.helpers import gid
from tests.plan_change_helpers import catalogue

POINTS = sorted(CRASH_POINTS)
KILLED = 137

CHANGE_PLAN = """
mutation($planId: ID!, $quoteId: String!) {
  changePlan(input: {planId: $planId, quoteId: $quoteId, idempotencyKey: "change-once"}) {
    __typename
    ... on ChangePlanSuccess { payment { status } }
    ... on UserError { code }
  }
}
"""


async def _change(url: str, key: str, variables: dict[str, str]) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=20) as http:
        try:
            response = await http.post(
                "/graphql",
                json={"query": CHANGE_PLAN, "variables": variables},
                headers={"Authorization": f"Bearer {key}"},
            )
        except httpx.TransportError:
            return "connection lost"
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    result = body["data"]["changePlan"]
    return str(result["payment"]["status"] if "payment" in result else result["code"])


@pytest.fixture(scope="module")
async def armed(process_env: dict[str, str]) -> AsyncIterator[dict[str, Gateway]]:
    gateways = {p: Gateway({**process_env, "BILLING_TEST_CRASH_AT": p}) for p in POINTS}
    try:
        for proc in gateways.values():
            await proc.wait_ready()
        yield gateways
    finally:
        for proc in gateways.values():
            proc.stop()


@pytest.mark.parametrize("point", POINTS)
async def test_gateway_killed_while_upgrading(
    point: str,
    db: str,
    sandbox: Sandbox,
    fault_proxy: FaultProxy,
    fault_providers: dict[int, StripeProvider],
    gateways: list[Gateway],
    armed: dict[str, Gateway],
) -> None:
    fault_proxy.reset()
    ctx = ServiceContext(provider=fault_providers[0], clock=SystemClock())
    plans = await catalogue()
    account = await make_account()
    await add_card(ctx, sandbox, account)
    now = datetime.now(UTC)
    sub = await Subscription.create(
        account=account,
        plan=plans.plus,
        status="ACTIVE",
        current_period_start=now - timedelta(days=10),
        current_period_end=now + timedelta(days=20),
        created_at=now - timedelta(days=90),
    )
    quote = await preview_plan_change(ctx, admin_of(account), None, plans.plus_5k.id)
    key = await api_key(account)
    variables = {"planId": gid("Plan", plans.plus_5k.id), "quoteId": quote.token}

    # when the gateway dies at `point` while charging the upgrade
    assert await _change(armed[point].url, key, variables) == "connection lost"
    assert await armed[point].wait(30) == KILLED

    # then the retry on another process says "in progress" or the outcome, never twice
    retry = await _change(gateways[0].url, key, variables)
    assert retry == ("SUCCEEDED" if point == "after_commit" else "PAYMENT_IN_PROGRESS")
    await sub.refresh_from_db()
    assert (sub.plan_id == plans.plus_5k.id) is (point == "after_commit")

    # and once the reconciler ran: one charge, the invoice paid, the plan switched
    later = ServiceContext(
        provider=ctx.provider,
        clock=FixedClock(datetime.now(UTC) + ctx.policy.reconcile_after + timedelta(seconds=1)),
    )
    await settle_stale(later)
    await fault_proxy.settle()
    assert await find_drift(ctx.provider) == []
    invoice = await Invoice.get(id=(await PlanChangeQuote.get(id=quote.id)).invoice_id)
    charges = [
        r for r in await ctx.provider.list_charges() if r.metadata["invoice_id"] == str(invoice.id)
    ]
    assert [r.charge.status for r in charges] == ["succeeded"]
    assert fault_proxy.charges_forwarded() == 1
    assert invoice.status is InvoiceStatus.PAID and invoice.amount_paid == quote.amount_due
    assert [p.status for p in await Payment.filter(invoice_id=invoice.id)] == [
        PaymentStatus.SUCCEEDED
    ]
    await sub.refresh_from_db()
    assert sub.plan_id == plans.plus_5k.id
    assert await _change(gateways[1].url, key, variables) == "SUCCEEDED"
