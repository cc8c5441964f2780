"""What a front-end reads when adding or choosing a card goes wrong: its own code for a
refused card, a reason for an unusable one, and NOT_FOUND worded the same whatever the
reason."""

from __future__ import annotations

import httpx
import pytest

from gateway.sandbox import Sandbox
from models import PaymentMethod, PlanTier
from services import card_setup
from services.context import ServiceContext
from services.provider.recording import RecordingProvider
from tests.factories import (
    OK_CARD,
    THREE_DS_CARD,
    add_card,
    admin_of,
    api_key,
    gql,
    make_account,
    make_invoice,
    subscribe,
)
from tests.graphql.helpers import db_state, gid
from tests.graphql.test_payment_method_mutations import ADD, DELETE, MAKE_DEFAULT
from tests.sandbox_browser import create_card_payment_method

ADD_WITH_REASON = ADD.replace(
    "... on CardDeclinedError { declineCode }",
    "... on CardDeclinedError { declineCode } "
    "... on PaymentMethodNotUsableError { paymentMethodStatus }",
)
MAKE_DEFAULT_WITH_REASON = MAKE_DEFAULT.replace(
    "__typename", "__typename ... on PaymentMethodNotUsableError { paymentMethodStatus }", 1
)
PAY = """
mutation Pay($invoice: ID!, $card: ID) {
  payInvoice(input: {invoiceId: $invoice, paymentMethodId: $card}) {
    __typename ... on UserError { code message field }
  }
}
"""
CONFIRM_PAYMENT = """
mutation ConfirmPayment($id: ID!) {
  confirmPayment(input: {paymentId: $id}) { __typename ... on UserError { code message field } }
}
"""


async def _plus() -> tuple[object, str]:
    account = await make_account(tier=PlanTier.PLUS)
    await subscribe(account)
    return account, await api_key(account)


async def test_expired_card_added_as_default_is_card_declined(
    client: httpx.AsyncClient, sandbox: Sandbox, services: ServiceContext
) -> None:
    # given an account with a good default card (the review's case: makeDefault: true)
    account, key = await _plus()
    good = await add_card(services, sandbox, account)
    token = await create_card_payment_method(sandbox, OK_CARD, exp_month=1, exp_year=2024)
    before = await db_state()

    body = await gql(client, ADD_WITH_REASON, {"token": token, "makeDefault": True}, key=key)

    result = body["data"]["addPaymentMethod"]
    assert (result["__typename"], result["code"], result["declineCode"]) == (
        "CardDeclinedError",
        "CARD_DECLINED",
        "expired_card",
    )
    assert "expired" in result["message"]
    assert await db_state() == before
    assert (await PaymentMethod.get(id=good.id)).is_default


async def test_unconfirmed_setup_says_so(
    client: httpx.AsyncClient, sandbox: Sandbox, services: ServiceContext
) -> None:
    account, key = await _plus()
    started = await card_setup.start_setup(services, admin_of(account), account.id)

    body = await gql(client, ADD_WITH_REASON, {"token": started.setup_intent_id}, key=key)

    result = body["data"]["addPaymentMethod"]
    assert result["__typename"] == "PaymentMethodNotUsableError"
    assert (result["code"], result["paymentMethodStatus"], result["field"]) == (
        "PAYMENT_METHOD_NOT_USABLE",
        "REQUIRES_ACTION",
        "providerToken",
    )
    assert "declined" not in result["message"]


@pytest.mark.parametrize(
    ("expire", "status", "words"),
    [(True, "EXPIRED", "expired"), (False, "REQUIRES_ACTION", "3-D Secure")],
)
async def test_make_default_says_why_a_card_is_not_usable(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    expire: bool,
    status: str,
    words: str,
) -> None:
    account, key = await _plus()
    await add_card(services, sandbox, account)
    card = await add_card(services, sandbox, account, OK_CARD if expire else THREE_DS_CARD)
    if expire:
        await PaymentMethod.filter(id=card.id).update(exp_year=2025)

    body = await gql(
        client, MAKE_DEFAULT_WITH_REASON, {"id": gid("PaymentMethod", card.id)}, key=key
    )

    result = body["data"]["makeDefault"]
    assert (result["__typename"], result["paymentMethodStatus"]) == (
        "PaymentMethodNotUsableError",
        status,
    )
    assert words in result["message"]


async def test_deleting_the_only_card_on_a_paid_plan_says_add_another_first(
    client: httpx.AsyncClient, sandbox: Sandbox, services: ServiceContext
) -> None:
    account, key = await _plus()
    only = await add_card(services, sandbox, account)

    body = await gql(client, DELETE, {"id": gid("PaymentMethod", only.id)}, key=key)

    result = body["data"]["deletePaymentMethod"]
    assert result["code"] == "DEFAULT_PAYMENT_METHOD_REQUIRED"
    assert "add another card first" in result["message"]
    assert "make another card the default" not in result["message"]


async def test_confirm_payment_on_an_attempt_we_superseded_says_so(
    client: httpx.AsyncClient, sandbox: Sandbox, services: ServiceContext
) -> None:
    # given a 3-D Secure attempt left unfinished, then the invoice paid with another card
    from services import payments
    from tests.services.test_payments_3ds import _verified_3ds_card

    account, key = await _plus()
    await _verified_3ds_card(services, sandbox, account)
    good = await add_card(services, sandbox, account)
    invoice = await make_invoice(account)
    _, first = await payments.pay_invoice(services, admin_of(account), invoice.id)
    assert first.status.value == "REQUIRES_ACTION"
    await payments.pay_invoice(services, admin_of(account), invoice.id, payment_method_id=good.id)

    # when the page that started the first attempt confirms it
    body = await gql(client, CONFIRM_PAYMENT, {"id": gid("Payment", first.id)}, key=key)

    # then it is told the invoice is already paid, not that a card was declined
    result = body["data"]["confirmPayment"]
    assert result["code"] == "INVOICE_NOT_PAYABLE", result
    assert "already paid" in result["message"]
    assert "declined" not in result["message"]


async def test_every_not_found_for_an_id_reads_the_same(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    # given my card and invoice, another account's, a deleted card, and IDs of a wrong type
    me, key = await _plus()
    mine = await add_card(services, sandbox, me)
    gone = await add_card(services, sandbox, me)
    await PaymentMethod.filter(id=gone.id).update(status="DELETED", deleted_at=gone.created_at)
    other = await make_account("other@example.test")
    theirs = await add_card(services, sandbox, other)
    their_invoice = await make_invoice(other)
    card_ids = {
        "another account's": gid("PaymentMethod", theirs.id),
        "missing": gid("PaymentMethod", 999_999),
        "deleted": gid("PaymentMethod", gone.id),
        "wrong type": gid("Invoice", mine.id),
    }
    invoice_ids = {
        "another account's": gid("Invoice", their_invoice.id),
        "missing": gid("Invoice", 999_999),
        "wrong type": gid("PaymentMethod", mine.id),
    }

    answers = set()
    for mutation, name in ((MAKE_DEFAULT, "makeDefault"), (DELETE, "deletePaymentMethod")):
        for card_id in card_ids.values():
            result = (await gql(client, mutation, {"id": card_id}, key=key))["data"][name]
            answers.add((name, result["code"], result["message"], result["field"]))
    for invoice_id in invoice_ids.values():
        result = (await gql(client, PAY, {"invoice": invoice_id}, key=key))["data"]["payInvoice"]
        answers.add(("payInvoice", result["code"], result["message"], result["field"]))

    # then one answer per mutation, the same message everywhere
    assert {(n, c, f) for n, c, _, f in answers} == {
        ("makeDefault", "NOT_FOUND", "paymentMethodId"),
        ("deletePaymentMethod", "NOT_FOUND", "paymentMethodId"),
        ("payInvoice", "NOT_FOUND", "invoiceId"),
    }
    assert len({m for _, _, m, _ in answers}) == 1
