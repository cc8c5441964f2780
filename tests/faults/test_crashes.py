"""kill -9 at each point of the payment path, restart, reconcile: one charge, no loss.

The gateway and the worker run as real processes (`billing-gateway serve`, `worker
--once`) on the test database, armed with the test-only crash hook
(`BILLING_TEST_CRASH_AT`, services/_crashpoints.py), which exits with 137 like
`kill -9`: no rollback handler, no answer, no cleanup. Then the client retries with
its idempotency key on another gateway process and the reconciler runs: in this
process with its clock moved past `reconcile_after` after a gateway crash, in a
restarted worker (`BILLING_RECONCILE_AFTER_SECONDS=0`: the real clock cannot be
moved across processes) after a worker crash. Drift must be empty; the
`billing-gateway reconcile` command itself (exit 0, or 1 on drift) is run at the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from gateway.sandbox import Sandbox
from models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    SubscriptionStatus,
)
from services._crashpoints import CRASH_POINTS
from services.clock import FixedClock, SystemClock
from services.context import ServiceContext
from services.drift import find_drift
from services.payments import pay_invoice
from services.provider.stripe import StripeProvider
from services.reconcile import settle_stale
from tests.factories import add_card, admin_of, api_key, make_account, make_invoice
from tests.faults.processes import Gateway, run_cli
from tests.faults.proxy import FaultProxy
from tests.graphql.helpers import gid
from tests.lifecycle.helpers import due_subscription

POINTS = sorted(CRASH_POINTS)
KILLED = 137

PAY_INVOICE = """
mutation Pay($invoiceId: ID!, $idempotencyKey: String) {
  payInvoice(input: {invoiceId: $invoiceId, idempotencyKey: $idempotencyKey}) {
    __typename
    ... on PayInvoiceSuccess { payment { status } }
    ... on UserError { code }
  }
}
"""


async def _pay(url: str, key: str, invoice: Invoice) -> str:
    """payInvoice as a client: the payment's status, the error code, or the lost line."""
    variables = {"invoiceId": gid("Invoice", invoice.id), "idempotencyKey": "pay-once"}
    async with httpx.AsyncClient(base_url=url, timeout=20) as http:
        try:
            response = await http.post(
                "/graphql",
                json={"query": PAY_INVOICE, "variables": variables},
                headers={"Authorization": f"Bearer {key}"},
            )
        except httpx.TransportError:
            return "connection lost"
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    result = body["data"]["payInvoice"]
    return str(result["payment"]["status"] if "payment" in result else result["code"])


async def _converged(proxy: FaultProxy, provider: StripeProvider, invoice: Invoice) -> None:
    """One succeeded charge for the invoice at the provider, ours agree, no drift."""
    assert await find_drift(provider) == []
    charges = [
        r for r in await provider.list_charges() if r.metadata["invoice_id"] == str(invoice.id)
    ]
    succeeded = [r.charge.payment_intent_id for r in charges if r.charge.status == "succeeded"]
    assert len(succeeded) == 1, charges
    assert proxy.charges_forwarded() == 1  # re-sends were answered from the key cache
    await invoice.refresh_from_db()
    assert invoice.status is InvoiceStatus.PAID and invoice.amount_paid == invoice.total
    assert invoice.active_payment_id is None
    payments = await Payment.filter(invoice_id=invoice.id)
    assert [(p.status, p.provider_payment_id) for p in payments] == [
        (PaymentStatus.SUCCEEDED, succeeded[0])
    ]


@pytest.fixture(scope="module")
async def armed_gateways(process_env: dict[str, str]) -> AsyncIterator[dict[str, Gateway]]:
    """One gateway per crash point, started together up front (each dies once)."""
    armed = {p: Gateway({**process_env, "BILLING_TEST_CRASH_AT": p}) for p in POINTS}
    try:
        for proc in armed.values():
            await proc.wait_ready()
        yield armed
    finally:
        for proc in armed.values():
            proc.stop()


@pytest.mark.parametrize("point", POINTS)
async def test_gateway_killed_while_paying(
    point: str,
    db: str,
    sandbox: Sandbox,
    fault_proxy: FaultProxy,
    fault_providers: dict[int, StripeProvider],
    gateways: list[Gateway],
    armed_gateways: dict[str, Gateway],
) -> None:
    fault_proxy.reset()
    ctx = ServiceContext(provider=fault_providers[0], clock=SystemClock())
    account = await make_account()
    await add_card(ctx, sandbox, account)
    invoice = await make_invoice(account)
    key = await api_key(account)

    # when the gateway dies at `point` while paying
    crashing = armed_gateways[point]
    assert await _pay(crashing.url, key, invoice) == "connection lost"
    assert await crashing.wait(30) == KILLED

    # then the client's retry on another process gets the outcome, or "in progress,
    # retry" while the first attempt is unsettled (never a PENDING "success")
    retry = await _pay(gateways[0].url, key, invoice)
    expected = {"after_claim": "PAYMENT_IN_PROGRESS", "after_provider_call": "PAYMENT_IN_PROGRESS"}
    assert retry == expected.get(point, "SUCCEEDED")
    # and once the reconciler ran, one charge and the same books on both sides
    later = ServiceContext(
        provider=ctx.provider,
        clock=FixedClock(datetime.now(UTC) + ctx.policy.reconcile_after + timedelta(seconds=1)),
    )
    await settle_stale(later)
    await fault_proxy.settle()
    await _converged(fault_proxy, fault_providers[0], invoice)
    assert await _pay(gateways[1].url, key, invoice) == "SUCCEEDED"


@pytest.mark.parametrize("point", POINTS)
async def test_worker_killed_while_charging_a_renewal(
    point: str,
    db: str,
    sandbox: Sandbox,
    fault_proxy: FaultProxy,
    fault_providers: dict[int, StripeProvider],
    process_env: dict[str, str],
) -> None:
    fault_proxy.reset()
    ctx = ServiceContext(provider=fault_providers[0], clock=SystemClock())
    account = await make_account()
    await add_card(ctx, sandbox, account)
    sub = await due_subscription(account, datetime.now(UTC) - timedelta(minutes=1))

    # when the worker dies at `point` while charging the renewal
    code, out = await run_cli(["worker", "--once"], {**process_env, "BILLING_TEST_CRASH_AT": point})
    assert code == KILLED, out

    # then a restarted worker settles it: one charge, the subscription renewed and active
    restart = {**process_env, "BILLING_RECONCILE_AFTER_SECONDS": "0"}
    code, out = await run_cli(["worker", "--once"], restart)
    assert code == 0, out
    invoice = await Invoice.get(subscription_id=sub.id)
    await _converged(fault_proxy, fault_providers[0], invoice)
    await sub.refresh_from_db()
    assert sub.status is SubscriptionStatus.ACTIVE
    assert sub.current_period_end > datetime.now(UTC)


@pytest.mark.no_ledger_check
async def test_reconcile_command_exits_1_on_drift(
    db: str,
    sandbox: Sandbox,
    fault_proxy: FaultProxy,
    fault_providers: dict[int, StripeProvider],
    process_env: dict[str, str],
) -> None:
    fault_proxy.reset()
    ctx = ServiceContext(provider=fault_providers[0], clock=SystemClock())
    account = await make_account()
    await add_card(ctx, sandbox, account)
    invoice = await make_invoice(account)
    _, payment = await pay_invoice(ctx, admin_of(account), invoice.id)
    code, out = await run_cli(["reconcile"], process_env)
    assert (code, out.strip()) == (0, "no drift: every provider charge matches a payment")

    # given our books lost that charge (recorded as failed)
    await Payment.filter(id=payment.id).update(status=PaymentStatus.FAILED)
    await Invoice.filter(id=invoice.id).update(amount_paid=0, status=InvoiceStatus.OPEN)

    code, out = await run_cli(["reconcile"], process_env)
    assert code == 1, out
    assert "missing" in out and str(payment.provider_payment_id) in out
