"""One idempotency key, one answer: concurrent payInvoice calls with one key each get
either "in progress, retry" (PAYMENT_IN_PROGRESS) or the very answer a retry gets once
the first call has finished, and the provider is asked to charge once.

PostgreSQL only: there the calls really overlap (each request's transactions run on
their own pooled connection)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from gateway.sandbox import Sandbox
from models import Invoice, InvoiceStatus, Payment, PaymentStatus
from services import payments
from services.context import ServiceContext
from services.provider.recording import RecordingProvider
from tests.factories import (
    DECLINING_CARD,
    OK_CARD,
    add_card,
    admin_of,
    api_key,
    gql,
    make_account,
    make_invoice,
)
from tests.graphql.helpers import gid
from tests.sandbox_browser import authenticate_payment
from tests.services.test_payments_3ds import _verified_3ds_card

pytestmark = pytest.mark.postgres

CALLS = 6
PAY = """
mutation Pay($invoiceId: ID!, $key: String) {
  payInvoice(input: {invoiceId: $invoiceId, idempotencyKey: $key}) {
    __typename
    ... on PayInvoiceSuccess {
      invoice { id status amountPaid { amount } }
      payment { id status nextAction { type clientSecret } }
    }
    ... on PaymentDeclinedError { declineCode payment { id status failureCode } }
    ... on UserError { code message field }
  }
}
"""
CONFIRM = """
mutation Confirm($id: ID!) {
  confirmPayment(input: {paymentId: $id}) {
    __typename
    ... on PayInvoiceSuccess { invoice { status amountPaid { amount } } payment { id status } }
    ... on UserError { code message }
  }
}
"""


async def _storm(
    client: httpx.AsyncClient, key: str, query: str, variables: dict[str, Any]
) -> list[dict[str, Any]]:
    bodies = await asyncio.gather(*(gql(client, query, variables, key=key) for _ in range(CALLS)))
    for body in bodies:
        assert "errors" not in body, body  # never a masked error
    return [next(iter(body["data"].values())) for body in bodies]


@pytest.mark.parametrize("card", ["ok", "3ds", "declined"])
async def test_concurrent_calls_with_one_key_get_one_answer(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
    card: str,
) -> None:
    # given an open invoice and a card that pays, asks for 3-D Secure, or is declined
    account = await make_account()
    if card == "3ds":
        await _verified_3ds_card(services, sandbox, account)
    else:
        await add_card(
            services, sandbox, account, DECLINING_CARD if card == "declined" else OK_CARD
        )
    invoice = await make_invoice(account, total=4900)
    key = await api_key(account)
    variables = {"invoiceId": gid("Invoice", invoice.id), "key": "double-click"}
    provider.reset()

    # when six calls with one idempotency key race, then the client retries once more
    answers = await _storm(client, key, PAY, variables)
    final = (await gql(client, PAY, variables, key=key))["data"]["payInvoice"]

    # then each answer is "in progress, retry" or exactly the final answer
    expected = {"ok": "PayInvoiceSuccess", "3ds": "PayInvoiceSuccess"}
    assert final["__typename"] == expected.get(card, "PaymentDeclinedError"), final
    for answer in answers:
        if answer.get("code") == "PAYMENT_IN_PROGRESS":
            assert answer["__typename"] == "PaymentInProgressError"
            continue
        assert answer == final, answers
    assert final in answers  # the first call itself answered it
    # and the provider was asked to charge once, for one payment row
    assert len(provider.calls_to("charge")) == 1
    [payment] = await Payment.filter(invoice_id=invoice.id)
    status = {"ok": PaymentStatus.SUCCEEDED, "3ds": PaymentStatus.REQUIRES_ACTION}
    assert payment.status is status.get(card, PaymentStatus.FAILED)


async def test_concurrent_confirm_payment_calls_agree_and_pay_once(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    # given a 3-D Secure payment whose challenge the cardholder just passed
    account = await make_account()
    await _verified_3ds_card(services, sandbox, account)
    invoice = await make_invoice(account, total=4900)
    _, payment = await payments.pay_invoice(services, admin_of(account), invoice.id)
    assert payment.next_action is not None and payment.provider_payment_id is not None
    secret = payment.next_action["client_secret"]
    await authenticate_payment(sandbox, payment.provider_payment_id, secret, success=True)
    key = await api_key(account)
    provider.reset()

    # when the page (and its retries) confirm six times at once
    answers = await _storm(client, key, CONFIRM, {"id": gid("Payment", payment.id)})

    # then every answer is the same success, and the invoice was paid once
    assert all(a == answers[0] for a in answers), answers
    assert answers[0]["payment"]["status"] == "SUCCEEDED"
    assert answers[0]["invoice"] == {"status": "PAID", "amountPaid": {"amount": 4900}}
    assert "charge" not in provider.names()
    paid = await Invoice.get(id=invoice.id)
    assert paid.status is InvoiceStatus.PAID and paid.amount_paid == 4900
