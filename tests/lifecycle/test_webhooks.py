"""POST /webhooks/stripe: signed events, each applied once, in whatever order they come."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from gateway.worker import tick
from models import (
    Invoice,
    InvoiceStatus,
    OutboxMessage,
    Payment,
    PaymentMethod,
    PaymentMethodStatus,
    PaymentStatus,
    WebhookEvent,
)
from services.payments import pay_invoice
from tests.factories import THREE_DS_CARD, add_card, admin_of, make_account, make_invoice
from tests.lifecycle.helpers import all_rows, queued
from tests.lifecycle.webhook_events import (
    charge,
    event,
    intent,
    post,
    refund_at_provider,
    signed,
)
from tests.sandbox_browser import authenticate_payment, complete_setup_3ds
from tests.services.test_payments_3ds import _verified_3ds_card


@pytest.fixture
async def waiting(services, sandbox, provider):
    """A payment waiting for 3-D Secure, which the cardholder has just passed."""
    account = await make_account()
    await _verified_3ds_card(services, sandbox, account)
    invoice = await make_invoice(account)
    _, payment = await pay_invoice(services, admin_of(account), invoice.id)
    assert payment.status is PaymentStatus.REQUIRES_ACTION
    secret = payment.next_action["client_secret"]
    await authenticate_payment(sandbox, payment.provider_payment_id, secret, success=True)
    provider.reset()
    return payment


async def test_payment_succeeded_event_pays_the_invoice(client, waiting, provider):
    response = await post(client, event("payment_intent.succeeded", intent(waiting, "succeeded")))

    assert response.status_code == 200 and response.json() == {"status": "applied"}
    await waiting.refresh_from_db()
    assert waiting.status is PaymentStatus.SUCCEEDED and waiting.next_action is None
    invoice = await Invoice.get(id=waiting.invoice_id)
    assert invoice.status is InvoiceStatus.PAID and invoice.amount_paid == invoice.total
    assert [m.template for m in await queued()] == ["payment_succeeded"]
    # the event was only a hint: the provider was asked, by the id we stored
    assert provider.calls == [
        ("retrieve_payment_intent", {"payment_intent_id": waiting.provider_payment_id})
    ]


@pytest.mark.parametrize(
    "sign",
    [
        {"secret": "whsec_forged"},
        {"at": int(time.time()) - 301},  # outside the 5-minute tolerance
        {"at": int(time.time()) + 3600},  # signed "in the future": a replay kept for later
    ],
    ids=["forged", "stale", "future"],
)
async def test_bad_signatures_are_refused_and_change_nothing(client, waiting, sign):
    before = await all_rows()
    evt = event("payment_intent.succeeded", intent(waiting, "succeeded"))

    response = await post(client, evt, **sign)

    assert response.status_code == 400
    assert await all_rows() == before


async def test_missing_signature_or_tampered_body_is_refused(client, waiting):
    before = await all_rows()
    payload = json.dumps(event("payment_intent.succeeded", intent(waiting, "succeeded")))
    headers = signed(payload)

    missing = await client.post("/webhooks/stripe", content=payload)
    tampered = await client.post(
        "/webhooks/stripe",
        content=payload.replace('"amount": 2900', '"amount": 1'),
        headers=headers,
    )

    assert (missing.status_code, tampered.status_code) == (400, 400)
    assert await all_rows() == before


async def test_twenty_concurrent_deliveries_apply_once(client, waiting, mailbox, services):
    evt = event("payment_intent.succeeded", intent(waiting, "succeeded"))

    responses = await asyncio.gather(*(post(client, evt) for _ in range(20)))

    assert all(r.status_code == 200 for r in responses)
    outcomes = sorted(r.json()["status"] for r in responses)
    assert outcomes == ["applied"] + ["duplicate"] * 19
    assert await WebhookEvent.filter(id=evt["id"]).count() == 1
    assert await Payment.filter(status=PaymentStatus.SUCCEEDED).count() == 1
    invoice = await Invoice.get(id=waiting.invoice_id)
    assert invoice.amount_paid == invoice.total  # counted once
    assert await OutboxMessage.filter(template="payment_succeeded").count() == 1
    await tick(services, mailbox.smtp)
    assert len(mailbox.messages) == 1


async def test_late_failure_does_not_undo_a_success(client, waiting):
    await post(client, event("payment_intent.succeeded", intent(waiting, "succeeded")))
    before = await all_rows()
    late = intent(
        waiting,
        "requires_payment_method",
        last_payment_error={"code": "card_declined", "decline_code": "generic_decline"},
    )

    response = await post(client, event("payment_intent.payment_failed", late))
    await post(client, event("payment_intent.requires_action", intent(waiting, "requires_action")))

    assert response.status_code == 200
    after = await all_rows()
    assert len(after["WebhookEvent"]) == len(before["WebhookEvent"]) + 2
    assert {k: v for k, v in after.items() if k != "WebhookEvent"} == {
        k: v for k, v in before.items() if k != "WebhookEvent"
    }
    await waiting.refresh_from_db()
    assert waiting.status is PaymentStatus.SUCCEEDED
    assert (await Invoice.get(id=waiting.invoice_id)).status is InvoiceStatus.PAID


async def test_failure_event_releases_the_invoice(client, services, sandbox):
    account = await make_account()
    await _verified_3ds_card(services, sandbox, account)
    invoice = await make_invoice(account)
    _, payment = await pay_invoice(services, admin_of(account), invoice.id)
    secret = payment.next_action["client_secret"]
    await authenticate_payment(sandbox, payment.provider_payment_id, secret, success=False)
    failed = intent(
        payment,
        "requires_payment_method",
        last_payment_error={"code": "payment_intent_authentication_failure"},
    )

    await post(client, event("payment_intent.payment_failed", failed))

    await payment.refresh_from_db()
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure_code == "payment_intent_authentication_failure"
    await invoice.refresh_from_db()
    assert invoice.status is InvoiceStatus.OPEN and invoice.active_payment_id is None


async def test_setup_succeeded_activates_a_card(client, services, sandbox):
    account = await make_account()
    await add_card(services, sandbox, account)
    pm = await add_card(services, sandbox, account, THREE_DS_CARD, make_default=True)
    assert pm.status is PaymentMethodStatus.REQUIRES_ACTION and not pm.is_default
    await complete_setup_3ds(sandbox, pm.setup_intent_id, pm.setup_client_secret)
    setup = {"id": pm.setup_intent_id, "object": "setup_intent", "status": "succeeded"}

    response = await post(client, event("setup_intent.succeeded", setup))

    assert response.json() == {"status": "applied"}
    await pm.refresh_from_db()
    assert pm.status is PaymentMethodStatus.ACTIVE and pm.is_default
    assert await PaymentMethod.filter(account_id=account.id, is_default=True).count() == 1


async def test_detached_card_is_removed_and_a_new_default_chosen(client, services, sandbox):
    account = await make_account()
    first = await add_card(services, sandbox, account)
    second = await add_card(services, sandbox, account)
    assert first.is_default
    await services.provider.detach_payment_method(first.provider_id)  # from the dashboard
    detached = {"id": first.provider_id, "object": "payment_method", "customer": None}

    response = await post(client, event("payment_method.detached", detached))

    assert response.json() == {"status": "applied"}
    await first.refresh_from_db()
    await second.refresh_from_db()
    assert first.status is PaymentMethodStatus.DELETED and not first.is_default
    assert second.is_default and second.status is PaymentMethodStatus.ACTIVE


async def test_an_expired_card_is_not_chosen_as_the_new_default(client, services, sandbox, clock):
    account = await make_account()
    first = await add_card(services, sandbox, account)
    valid = await add_card(services, sandbox, account)
    expiring = await add_card(services, sandbox, account, exp_year=2026)  # 12/2026, newest
    clock.set(clock.now().replace(year=2027, month=1))
    await services.provider.detach_payment_method(first.provider_id)
    detached = {"id": first.provider_id, "object": "payment_method", "customer": None}

    await post(client, event("payment_method.detached", detached))

    await valid.refresh_from_db()
    await expiring.refresh_from_db()
    assert valid.is_default and not expiring.is_default


async def test_refunds_are_what_the_provider_says_and_only_grow(client, waiting, sandbox):
    await post(client, event("payment_intent.succeeded", intent(waiting, "succeeded")))
    await refund_at_provider(sandbox, waiting.provider_payment_id, 1000)

    claims_all = await post(client, event("charge.refunded", charge(waiting, 2900)))
    await waiting.refresh_from_db()
    assert claims_all.json() == {"status": "applied"}
    assert waiting.amount_refunded == 1000  # the provider's total, not the event's

    await refund_at_provider(sandbox, waiting.provider_payment_id, 1900)
    await post(client, event("charge.refunded", charge(waiting, 2900)))
    late = await post(client, event("charge.refunded", charge(waiting, 1000)))  # an older one

    await waiting.refresh_from_db()
    assert late.json() == {"status": "ignored"}
    assert waiting.amount_refunded == 2900 and waiting.status is PaymentStatus.SUCCEEDED


async def test_unknown_events_are_acknowledged_and_ignored(client, waiting):
    before = await all_rows()

    response = await post(client, event("customer.created", {"id": "cus_x", "object": "customer"}))
    unknown_pi = await post(
        client, event("payment_intent.succeeded", {"id": "pi_unknown", "metadata": {}})
    )

    assert response.status_code == 200 and response.json() == {"status": "ignored"}
    assert unknown_pi.json() == {"status": "ignored"}
    after = await all_rows()
    assert {k: v for k, v in after.items() if k != "WebhookEvent"} == {
        k: v for k, v in before.items() if k != "WebhookEvent"
    }
