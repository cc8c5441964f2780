"""A signed event is a hint: what settles money is what the provider says when asked.

These events are signed with the right secret (as a leaked or default secret would
allow) but lie about the provider's state; the provider is the real sandbox.
"""

from __future__ import annotations

import secrets

import pytest

from models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentMethodStatus,
    PaymentStatus,
    WebhookEvent,
)
from services.payments import pay_invoice
from services.provider.base import ProviderUnavailableError
from tests.factories import THREE_DS_CARD, add_card, admin_of, make_account, make_invoice
from tests.lifecycle.helpers import all_rows
from tests.lifecycle.webhook_events import charge, event, intent, post
from tests.sandbox_browser import authenticate_payment
from tests.services.test_payments_3ds import _verified_3ds_card


def without_events(rows: dict[str, list[dict[str, object]]]) -> dict[str, list[dict[str, object]]]:
    return {k: v for k, v in rows.items() if k != "WebhookEvent"}


@pytest.fixture
async def needs_action(services, sandbox, provider) -> Payment:
    """A payment whose 3-D Secure challenge the cardholder has NOT passed."""
    account = await make_account()
    await _verified_3ds_card(services, sandbox, account)
    invoice = await make_invoice(account)
    _, payment = await pay_invoice(services, admin_of(account), invoice.id)
    assert payment.status is PaymentStatus.REQUIRES_ACTION
    provider.reset()
    return payment


async def test_a_forged_success_leaves_the_invoice_open(client, needs_action, provider):
    before = await all_rows()

    response = await post(client, event("payment_intent.succeeded", intent(needs_action, "x")))

    assert response.status_code == 200 and response.json() == {"status": "ignored"}
    assert without_events(await all_rows()) == without_events(before)
    invoice = await Invoice.get(id=needs_action.invoice_id)
    assert invoice.status is InvoiceStatus.OPEN and invoice.amount_paid == 0
    assert provider.names() == ["retrieve_payment_intent"]


async def test_a_forged_failure_keeps_the_payment_waiting(client, needs_action):
    before = await all_rows()
    failed = intent(needs_action, "requires_payment_method", last_payment_error={"code": "x"})

    response = await post(client, event("payment_intent.payment_failed", failed))

    assert response.json() == {"status": "ignored"}
    assert without_events(await all_rows()) == without_events(before)


async def test_genuine_success_then_a_replay(client, needs_action, sandbox, provider):
    secret = needs_action.next_action["client_secret"]
    await authenticate_payment(sandbox, needs_action.provider_payment_id, secret, success=True)
    evt = event("payment_intent.succeeded", intent(needs_action, "succeeded"))

    first = await post(client, evt)
    provider.reset()
    replay = await post(client, evt)

    assert (first.json(), replay.json()) == ({"status": "applied"}, {"status": "duplicate"})
    assert provider.calls == []  # a replay is answered without asking the provider
    invoice = await Invoice.get(id=needs_action.invoice_id)
    assert invoice.status is InvoiceStatus.PAID and invoice.amount_paid == invoice.total


async def test_an_unknown_intent_is_ignored_without_asking(client, needs_action, provider):
    unknown = {"id": "pi_unknown", "amount": 1, "currency": "usd", "metadata": {}}

    response = await post(client, event("payment_intent.succeeded", unknown))

    assert response.json() == {"status": "ignored"}
    assert provider.calls == []


async def test_provider_unreachable_answers_503_and_records_nothing(
    client, needs_action, sandbox, provider
):
    secret = needs_action.next_action["client_secret"]
    await authenticate_payment(sandbox, needs_action.provider_payment_id, secret, success=True)
    before = await all_rows()
    evt = event("payment_intent.succeeded", intent(needs_action, "succeeded"))
    provider.fail_next("retrieve_payment_intent", ProviderUnavailableError("down"))

    refused = await post(client, evt)

    assert refused.status_code == 503
    assert await all_rows() == before  # not even the event id: the retry must be applied
    retried = await post(client, evt)
    assert retried.json() == {"status": "applied"}
    assert (await Invoice.get(id=needs_action.invoice_id)).status is InvoiceStatus.PAID


async def test_an_intent_that_is_not_our_payment_is_ignored(
    client, services, sandbox, stripe_provider, caplog
):
    """A payment whose charge answer was lost (no intent id stored) and a real, succeeded
    intent of another amount that names our payment in its metadata."""
    account = await make_account()
    card = await add_card(services, sandbox, account)
    invoice = await make_invoice(account)
    _, payment = await pay_invoice(services, admin_of(account), invoice.id)
    await Payment.filter(id=payment.id).update(
        status=PaymentStatus.PENDING, provider_payment_id=None, settled_at=None
    )
    await Invoice.filter(id=invoice.id).update(
        status=InvoiceStatus.OPEN, amount_paid=0, paid_at=None, active_payment_id=payment.id
    )
    account = await account.__class__.get(id=account.id)
    other = await stripe_provider.charge(
        customer_id=account.provider_customer_id,
        payment_method_id=card.provider_id,
        amount=100,
        currency="USD",
        idempotency_key=secrets.token_hex(8),
        off_session=False,
        metadata={"payment_id": str(payment.id)},
    )
    assert other.status == "succeeded"
    before = await all_rows()
    claim = {
        "id": other.payment_intent_id,
        "amount": payment.amount,
        "currency": "usd",
        "metadata": {"payment_id": str(payment.id)},
    }

    response = await post(client, event("payment_intent.succeeded", claim))

    assert response.json() == {"status": "ignored"}
    assert without_events(await all_rows()) == without_events(before)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("amount or currency" in m for m in warnings)
    assert not any(secrets_in(m) for m in warnings)


def secrets_in(message: str) -> bool:
    return "_secret_" in message or "sk_" in message or "whsec_" in message


async def test_a_forged_refund_changes_nothing(client, needs_action, sandbox):
    secret = needs_action.next_action["client_secret"]
    await authenticate_payment(sandbox, needs_action.provider_payment_id, secret, success=True)
    await post(client, event("payment_intent.succeeded", intent(needs_action, "succeeded")))

    response = await post(client, event("charge.refunded", charge(needs_action, 2900)))

    assert response.json() == {"status": "ignored"}
    await needs_action.refresh_from_db()
    assert needs_action.amount_refunded == 0  # the provider refunded nothing


async def test_a_forged_setup_success_does_not_activate_the_card(client, services, sandbox):
    account = await make_account()
    await add_card(services, sandbox, account)
    pm = await add_card(services, sandbox, account, THREE_DS_CARD, make_default=True)
    setup = {"id": pm.setup_intent_id, "object": "setup_intent", "status": "succeeded"}

    response = await post(client, event("setup_intent.succeeded", setup))

    assert response.json() == {"status": "ignored"}
    await pm.refresh_from_db()
    assert pm.status is PaymentMethodStatus.REQUIRES_ACTION and not pm.is_default


async def test_a_forged_detach_keeps_the_card(client, services, sandbox):
    account = await make_account()
    card = await add_card(services, sandbox, account)
    detached = {"id": card.provider_id, "object": "payment_method", "customer": None}

    response = await post(client, event("payment_method.detached", detached))

    assert response.json() == {"status": "ignored"}
    await card.refresh_from_db()
    assert card.status is PaymentMethodStatus.ACTIVE and card.is_default
    assert await WebhookEvent.all().count() == 1
    assert await PaymentMethod.filter(account_id=account.id, is_default=True).count() == 1
