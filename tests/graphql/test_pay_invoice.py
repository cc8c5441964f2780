"""Paying an invoice from the billing page: success, decline, 3-D Secure, retries."""

from __future__ import annotations

import httpx

from gateway.sandbox import Sandbox
from models import (
    Account,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    SubscriptionStatus,
)
from services import card_setup
from services.context import ServiceContext
from services.provider.recording import RecordingProvider
from tests.factories import (
    DECLINING_CARD,
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
from tests.sandbox_browser import (
    authenticate_payment,
    confirm_card_setup,
    create_card_payment_method,
)

_PAYMENT = "id status amount { amount formatted } failureCode failureMessage"
_RESULT = f"""
    __typename
    ... on PayInvoiceSuccess {{
      invoice {{ id status amountDue {{ amount }} paidAt }}
      payment {{ {_PAYMENT} paymentMethod {{ last4 }} nextAction {{ type clientSecret }} }}
    }}
    ... on PaymentDeclinedError {{ declineCode payment {{ {_PAYMENT} }} }}
    ... on UserError {{ code message field }}
"""

PAY_INVOICE = f"""
mutation Pay($invoiceId: ID!, $paymentMethodId: ID, $idempotencyKey: String) {{
  payInvoice(input: {{
    invoiceId: $invoiceId, paymentMethodId: $paymentMethodId, idempotencyKey: $idempotencyKey
  }}) {{ {_RESULT} }}
}}
"""

CONFIRM_PAYMENT = f"""
mutation Confirm($paymentId: ID!) {{
  confirmPayment(input: {{paymentId: $paymentId}}) {{ {_RESULT} }}
}}
"""

ADD_CARD = """
mutation Add($token: String!) {
  addPaymentMethod(input: {providerToken: $token, makeDefault: true}) {
    __typename ... on AddPaymentMethodSuccess { paymentMethod { id isDefault } }
  }
}
"""

SUBSCRIPTION = """
query { viewer { account {
  subscription { status paidFeaturesEnabled }
  outstandingBalance { amount }
} } }
"""


async def _billed(
    services: ServiceContext, sandbox: Sandbox, card: str | None = OK_CARD
) -> tuple[Account, Invoice, str]:
    account = await make_account()
    sub = await subscribe(account)
    if card is not None:
        await add_card(services, sandbox, account, card)
    invoice = await make_invoice(account, subscription=sub)
    return account, invoice, await api_key(account)


async def _add_verified_3ds_card(
    services: ServiceContext, sandbox: Sandbox, account: Account
) -> PaymentMethod:
    """A 3DS card whose setup challenge the browser passed: ACTIVE, yet each charge asks again."""
    started = await card_setup.start_setup(services, admin_of(account), account.id)
    seti = await confirm_card_setup(sandbox, started.client_secret, THREE_DS_CARD)
    pm, _ = await card_setup.add_payment_method(services, admin_of(account), account.id, seti)
    return pm


async def _pay(client: httpx.AsyncClient, key: str, **variables: object) -> dict[str, object]:
    body = await gql(client, PAY_INVOICE, variables, key=key)
    assert "errors" not in body, body
    result: dict[str, object] = body["data"]["payInvoice"]
    return result


async def test_pay_with_the_default_card(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    # given an open invoice and a default card
    _, invoice, key = await _billed(services, sandbox)
    provider.reset()

    # when
    result = await _pay(client, key, invoiceId=gid("Invoice", invoice.id))

    # then the invoice is paid with one charge
    assert result["__typename"] == "PayInvoiceSuccess", result
    assert result["invoice"]["status"] == "PAID"
    assert result["invoice"]["amountDue"] == {"amount": 0}
    assert result["invoice"]["paidAt"] is not None
    payment = result["payment"]
    assert payment["status"] == "SUCCEEDED"
    assert payment["amount"] == {"amount": 2900, "formatted": "$29.00"}
    assert payment["paymentMethod"] == {"last4": "4242"}
    assert payment["nextAction"] is None
    assert provider.names() == ["charge"]
    assert provider.calls_to("charge")[0]["amount"] == 2900


async def test_declined_card_is_a_declined_error_carrying_the_payment(
    client: httpx.AsyncClient, sandbox: Sandbox, services: ServiceContext
) -> None:
    _, invoice, key = await _billed(services, sandbox, DECLINING_CARD)

    result = await _pay(client, key, invoiceId=gid("Invoice", invoice.id))

    assert result["__typename"] == "PaymentDeclinedError", result
    assert result["code"] == "PAYMENT_DECLINED"
    assert result["message"]
    assert result["payment"]["status"] == "FAILED"
    assert result["payment"]["failureCode"] == result["declineCode"]
    assert result["payment"]["failureCode"]
    assert result["payment"]["failureMessage"] == result["message"]
    # the failed attempt is recorded, the invoice stays open
    stored = await Invoice.get(id=invoice.id)
    assert (stored.status, stored.active_payment_id) == (InvoiceStatus.OPEN, None)
    assert await Payment.filter(invoice_id=invoice.id).count() == 1


async def test_3ds_payment_requires_action_then_confirms(
    client: httpx.AsyncClient, sandbox: Sandbox, services: ServiceContext
) -> None:
    # given a card that was verified at setup but needs 3-D Secure to pay
    account, invoice, key = await _billed(services, sandbox, card=None)
    card = await _add_verified_3ds_card(services, sandbox, account)
    assert card.is_default

    # when the invoice is paid
    result = await _pay(client, key, invoiceId=gid("Invoice", invoice.id))

    # then the payment waits for the browser
    assert result["__typename"] == "PayInvoiceSuccess", result
    assert result["invoice"]["status"] == "OPEN"
    payment = result["payment"]
    assert payment["status"] == "REQUIRES_ACTION"
    secret = payment["nextAction"]["clientSecret"]
    assert secret.startswith("pi_")

    # when the browser passes the challenge and the page confirms
    await authenticate_payment(sandbox, secret.split("_secret_")[0], secret, success=True)
    body = await gql(client, CONFIRM_PAYMENT, {"paymentId": payment["id"]}, key=key)

    # then the invoice is paid
    confirmed = body["data"]["confirmPayment"]
    assert confirmed["__typename"] == "PayInvoiceSuccess", confirmed
    assert confirmed["payment"]["status"] == "SUCCEEDED"
    assert confirmed["payment"]["nextAction"] is None
    assert confirmed["invoice"]["status"] == "PAID"


async def test_past_due_account_recovers_after_paying_with_a_new_card(
    client: httpx.AsyncClient, sandbox: Sandbox, services: ServiceContext
) -> None:
    # given a PAST_DUE subscription whose card keeps declining
    account = await make_account()
    sub = await subscribe(account, status=SubscriptionStatus.PAST_DUE)
    await add_card(services, sandbox, account, DECLINING_CARD)
    invoice = await make_invoice(account, subscription=sub)
    key = await api_key(account)
    before = (await gql(client, SUBSCRIPTION, key=key))["data"]["viewer"]["account"]
    assert before["subscription"] == {"status": "PAST_DUE", "paidFeaturesEnabled": False}

    # when the customer adds a new default card and pays the invoice
    token = await create_card_payment_method(sandbox, OK_CARD)
    added = (await gql(client, ADD_CARD, {"token": token}, key=key))["data"]["addPaymentMethod"]
    assert added["paymentMethod"]["isDefault"] is True
    result = await _pay(client, key, invoiceId=gid("Invoice", invoice.id))

    # then paid features are back at once
    assert result["__typename"] == "PayInvoiceSuccess", result
    after = (await gql(client, SUBSCRIPTION, key=key))["data"]["viewer"]["account"]
    assert after == {
        "subscription": {"status": "ACTIVE", "paidFeaturesEnabled": True},
        "outstandingBalance": {"amount": 0},
    }


async def test_same_idempotency_key_replays_the_first_answer(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    _, invoice, key = await _billed(services, sandbox)
    provider.reset()
    variables = {"invoiceId": gid("Invoice", invoice.id), "idempotencyKey": "pay-1"}

    first = await _pay(client, key, **variables)
    second = await _pay(client, key, **variables)

    assert first["__typename"] == second["__typename"] == "PayInvoiceSuccess"
    assert second["payment"]["id"] == first["payment"]["id"]
    assert second["payment"]["status"] == "SUCCEEDED"
    assert provider.names() == ["charge"]


async def test_same_idempotency_key_for_another_request_is_a_conflict(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    # given a paid invoice under key "k", and another open invoice
    account, invoice, key = await _billed(services, sandbox)
    other = await make_invoice(account)
    await _pay(client, key, invoiceId=gid("Invoice", invoice.id), idempotencyKey="k")
    provider.reset()
    before = await db_state()

    # when "k" is reused for the other invoice
    result = await _pay(client, key, invoiceId=gid("Invoice", other.id), idempotencyKey="k")

    # then
    assert result == {
        "__typename": "IdempotencyConflictError",
        "code": "IDEMPOTENCY_CONFLICT",
        "message": "This idempotency key was already used for a different request.",
        "field": "idempotencyKey",
    }
    assert provider.calls == []
    assert await db_state() == before


async def test_paid_invoice_is_not_payable(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    account, _, key = await _billed(services, sandbox)
    paid = await make_invoice(account, status=InvoiceStatus.PAID)
    provider.reset()
    before = await db_state()

    result = await _pay(client, key, invoiceId=gid("Invoice", paid.id))

    assert result == {
        "__typename": "InvoiceNotPayableError",
        "code": "INVOICE_NOT_PAYABLE",
        "message": "This invoice is paid; only open invoices can be paid.",
        "field": "invoiceId",
    }
    assert provider.calls == []
    assert await db_state() == before


async def test_no_card_on_file_is_payment_method_required(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    _, invoice, key = await _billed(services, sandbox, card=None)
    before = await db_state()

    result = await _pay(client, key, invoiceId=gid("Invoice", invoice.id))

    assert result == {
        "__typename": "PaymentMethodRequiredError",
        "code": "PAYMENT_METHOD_REQUIRED",
        "message": "Add a card before paying.",
        "field": "paymentMethodId",
    }
    assert provider.calls == []
    assert await db_state() == before


async def test_card_awaiting_3ds_setup_is_not_usable(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    account, invoice, key = await _billed(services, sandbox)
    pending = await add_card(services, sandbox, account, THREE_DS_CARD)
    provider.reset()
    before = await db_state()

    result = await _pay(
        client,
        key,
        invoiceId=gid("Invoice", invoice.id),
        paymentMethodId=gid("PaymentMethod", pending.id),
    )

    assert result["__typename"] == "PaymentMethodNotUsableError"
    assert (result["code"], result["field"]) == ("PAYMENT_METHOD_NOT_USABLE", "paymentMethodId")
    assert provider.calls == []
    assert await db_state() == before


async def test_bad_invoice_ids_are_error_members(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    _, _, key = await _billed(services, sandbox)
    provider.reset()

    malformed = await _pay(client, key, invoiceId="%%%")
    wrong_type = await _pay(client, key, invoiceId=gid("Payment", 1))
    missing = await _pay(client, key, invoiceId=gid("Invoice", 999_999))

    assert (malformed["__typename"], malformed["field"]) == ("InvalidInputError", "invoiceId")
    assert (wrong_type["__typename"], wrong_type["field"]) == ("NotFoundError", "invoiceId")
    assert (missing["__typename"], missing["field"]) == ("NotFoundError", "invoiceId")
    assert provider.calls == []


async def test_failed_3ds_challenge_is_declined_and_invoice_stays_payable(
    client: httpx.AsyncClient, sandbox: Sandbox, services: ServiceContext
) -> None:
    # given a payment waiting for 3-D Secure
    account, invoice, key = await _billed(services, sandbox, card=None)
    await _add_verified_3ds_card(services, sandbox, account)
    started = await _pay(client, key, invoiceId=gid("Invoice", invoice.id))
    payment_id = started["payment"]["id"]
    secret = started["payment"]["nextAction"]["clientSecret"]

    # when the cardholder fails the challenge and the page confirms
    await authenticate_payment(sandbox, secret.split("_secret_")[0], secret, success=False)
    body = await gql(client, CONFIRM_PAYMENT, {"paymentId": payment_id}, key=key)

    # then the attempt is a recorded decline and the invoice is open for another try
    result = body["data"]["confirmPayment"]
    assert result["__typename"] == "PaymentDeclinedError", result
    assert result["payment"]["id"] == payment_id
    assert result["payment"]["status"] == "FAILED"
    stored = await Invoice.get(id=invoice.id)
    assert (stored.status, stored.active_payment_id) == (InvoiceStatus.OPEN, None)
