"""Races across two gateway processes on one PostgreSQL database.

The in-process race tests (tests/services/test_concurrency.py) share one connection
pool and one provider client; here two `billing-gateway serve` processes answer
requests fired at both at once, so only the database (the conditional UPDATE that
claims an invoice, the account row lock that guards the cards) and the provider's
idempotency keys can keep the outcome right.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import pytest

from gateway.sandbox import Sandbox
from models import Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentMethodStatus, PlanTier
from services.clock import SystemClock
from services.context import ServiceContext
from services.drift import find_drift
from services.provider.stripe import StripeProvider
from tests.factories import add_card, api_key, make_account, make_invoice, subscribe
from tests.faults.processes import Gateway
from tests.faults.proxy import FaultProxy
from tests.graphql.helpers import gid

pytestmark = pytest.mark.postgres

CALLS = 50

PAY_INVOICE = """
mutation Pay($invoiceId: ID!, $idempotencyKey: String) {
  payInvoice(input: {invoiceId: $invoiceId, idempotencyKey: $idempotencyKey}) {
    __typename
    ... on PayInvoiceSuccess { invoice { status } payment { id status } }
    ... on UserError { code }
  }
}
"""
MAKE_DEFAULT = """
mutation($id: ID!) { makeDefault(input: {paymentMethodId: $id}) {
  __typename ... on UserError { code }
} }
"""
DELETE = """
mutation($id: ID!) { deletePaymentMethod(input: {paymentMethodId: $id}) {
  __typename ... on UserError { code }
} }
"""


async def _fire(
    gateways: list[Gateway], key: str, calls: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Send every call at once, alternating between the gateways; each one's payload."""
    limits = httpx.Limits(max_connections=2 * len(calls))
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:

        async def one(i: int, query: str, variables: dict[str, Any]) -> dict[str, Any]:
            response = await http.post(
                f"{gateways[i % len(gateways)].url}/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert response.status_code == 200, response.text  # never a 500
            body = response.json()
            assert "errors" not in body, body  # never a masked error
            [payload] = body["data"].values()
            return dict(payload)

        return await asyncio.gather(*(one(i, q, v) for i, (q, v) in enumerate(calls)))


async def _billed(
    sandbox: Sandbox, proxy: FaultProxy, provider: StripeProvider
) -> tuple[Invoice, str, ServiceContext]:
    proxy.reset()
    ctx = ServiceContext(provider=provider, clock=SystemClock())
    account = await make_account()
    await add_card(ctx, sandbox, account)
    invoice = await make_invoice(account, total=4900)
    return invoice, await api_key(account), ctx


async def _charged_once(proxy: FaultProxy, ctx: ServiceContext, invoice: Invoice) -> None:
    await proxy.settle()
    assert proxy.charges_forwarded() == 1
    charges = await ctx.provider.list_charges()
    assert [r.metadata["invoice_id"] for r in charges] == [str(invoice.id)]
    assert charges[0].charge.status == "succeeded"
    assert await find_drift(ctx.provider) == []
    await invoice.refresh_from_db()
    assert invoice.status is InvoiceStatus.PAID and invoice.amount_paid == 4900
    assert await Payment.filter(invoice_id=invoice.id).count() == 1


async def test_fifty_pay_invoice_calls_across_two_processes_charge_once(
    db: str,
    sandbox: Sandbox,
    fault_proxy: FaultProxy,
    fault_providers: dict[int, StripeProvider],
    gateways: list[Gateway],
) -> None:
    invoice, key, ctx = await _billed(sandbox, fault_proxy, fault_providers[0])
    pay = (PAY_INVOICE, {"invoiceId": gid("Invoice", invoice.id)})

    results = await _fire(gateways, key, [pay] * CALLS)

    paid = [r for r in results if r["__typename"] == "PayInvoiceSuccess"]
    # a caller that found the claim taken and then settled reports that same payment
    assert len({r["payment"]["id"] for r in paid}) == 1, results
    assert {r["payment"]["status"] for r in paid} == {"SUCCEEDED"}, results
    refusals = {r.get("code") for r in results if r not in paid}
    assert refusals <= {"PAYMENT_IN_PROGRESS", "INVOICE_NOT_PAYABLE"}, results
    await _charged_once(fault_proxy, ctx, invoice)


async def test_fifty_calls_with_one_idempotency_key_get_one_payment(
    db: str,
    sandbox: Sandbox,
    fault_proxy: FaultProxy,
    fault_providers: dict[int, StripeProvider],
    gateways: list[Gateway],
) -> None:
    invoice, key, ctx = await _billed(sandbox, fault_proxy, fault_providers[0])
    pay = (PAY_INVOICE, {"invoiceId": gid("Invoice", invoice.id), "idempotencyKey": "one-click"})

    results = await _fire(gateways, key, [pay] * CALLS)

    # one answer per key: the outcome, or "in progress, retry" while the first is charging
    paid = [r for r in results if r["__typename"] == "PayInvoiceSuccess"]
    assert paid and {r.get("code") for r in results if r not in paid} <= {"PAYMENT_IN_PROGRESS"}
    assert len({r["payment"]["id"] for r in paid}) == 1
    assert {r["payment"]["status"] for r in paid} == {"SUCCEEDED"}, results
    await _charged_once(fault_proxy, ctx, invoice)


async def test_storms_of_make_default_and_delete_keep_one_default_card(
    db: str,
    sandbox: Sandbox,
    fault_proxy: FaultProxy,
    fault_providers: dict[int, StripeProvider],
    gateways: list[Gateway],
) -> None:
    fault_proxy.reset()
    ctx = ServiceContext(provider=fault_providers[0], clock=SystemClock())
    account = await make_account(tier=PlanTier.PLUS)
    await subscribe(account)
    key = await api_key(account)

    for round_ in range(3):
        live = await _live_cards(account.id)
        live += [await add_card(ctx, sandbox, account) for _ in range(5 - len(live))]
        calls = [
            (DELETE if (i + round_) % 3 == 0 else MAKE_DEFAULT, {"id": gid("PaymentMethod", pm.id)})
            for i, pm in zip(range(30), itertools.cycle(live), strict=False)
        ]

        results = await _fire(gateways, key, calls)

        codes = {r.get("code") for r in results if "code" in r}
        assert codes <= {"NOT_FOUND", "DEFAULT_PAYMENT_METHOD_REQUIRED"}, results
        live = await _live_cards(account.id)
        assert live, "a paid plan must keep a card"
        assert len([pm for pm in live if pm.is_default]) == 1, live
        assert not await PaymentMethod.filter(
            account_id=account.id, status=PaymentMethodStatus.DELETED, is_default=True
        ).exists()


async def _live_cards(account_id: int) -> list[PaymentMethod]:
    return list(
        await PaymentMethod.filter(account_id=account_id)
        .exclude(status=PaymentMethodStatus.DELETED)
        .order_by("id")
    )
