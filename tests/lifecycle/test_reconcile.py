"""The reconciler settles payments a crash or a timeout left PENDING or PROCESSING."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.worker import tick
from models import Invoice, InvoiceStatus, Payment, PaymentStatus, SubscriptionStatus
from services.errors import ProviderUnavailable
from services.payments import pay_invoice
from services.provider.base import ProviderUnavailableError
from services.reconcile import settle_stale
from tests.factories import DECLINING_CARD, add_card, admin_of, make_account, make_invoice
from tests.lifecycle.helpers import all_rows, due_subscription, state
from tests.sandbox_browser import authenticate_payment
from tests.services.test_payments_3ds import _verified_3ds_card

AFTER = timedelta(minutes=5)  # BillingPolicy.reconcile_after


async def _crashed_payment(services, provider, account, invoice):
    """The claim was made, then the provider call was cut off: PENDING, holding the invoice."""
    provider.fail_next("charge", ProviderUnavailableError("connection reset"))
    with pytest.raises(ProviderUnavailable):
        await pay_invoice(services, admin_of(account), invoice.id)
    [payment] = await Payment.filter(invoice_id=invoice.id)
    assert payment.status is PaymentStatus.PENDING
    await invoice.refresh_from_db()
    assert invoice.active_payment_id == payment.id
    return payment


async def test_pending_payment_is_charged_once_with_its_own_key(services, sandbox, provider, clock):
    account = await make_account()
    await add_card(services, sandbox, account)
    invoice = await make_invoice(account)
    payment = await _crashed_payment(services, provider, account, invoice)
    key = provider.calls_to("charge")[0]["idempotency_key"]
    assert key == payment.provider_idempotency_key

    # not yet stale: left alone
    clock.advance(AFTER - timedelta(seconds=1))
    before = await all_rows()
    provider.reset()
    assert (await settle_stale(services)).examined == 0
    assert provider.calls == [] and await all_rows() == before

    # stale: sent again once, with the same key, and the invoice ends paid
    clock.advance(timedelta(seconds=2))
    report = await settle_stale(services)
    assert (report.examined, report.settled, report.errors) == (1, 1, [])
    [charge] = provider.calls_to("charge")
    assert charge["idempotency_key"] == key and charge["amount"] == invoice.total
    await payment.refresh_from_db()
    assert payment.status is PaymentStatus.SUCCEEDED and payment.settled_at == clock.now()
    await invoice.refresh_from_db()
    assert invoice.status is InvoiceStatus.PAID and invoice.amount_paid == invoice.total
    assert invoice.active_payment_id is None

    # and a second pass finds nothing
    provider.reset()
    assert (await settle_stale(services)).examined == 0 and provider.calls == []


async def test_pending_decline_is_recorded(services, sandbox, provider, clock):
    account = await make_account()
    await add_card(services, sandbox, account, DECLINING_CARD)
    invoice = await make_invoice(account)
    payment = await _crashed_payment(services, provider, account, invoice)
    clock.advance(AFTER + timedelta(seconds=1))
    provider.reset()

    report = await settle_stale(services)

    assert report.settled == 1 and len(provider.calls_to("charge")) == 1
    await payment.refresh_from_db()
    assert payment.status is PaymentStatus.FAILED and payment.failure_code == "card_declined"
    await invoice.refresh_from_db()
    assert invoice.status is InvoiceStatus.OPEN and invoice.active_payment_id is None


async def test_processing_payment_is_looked_up_not_charged(services, sandbox, provider, clock):
    account = await make_account()
    await _verified_3ds_card(services, sandbox, account)
    invoice = await make_invoice(account)
    _, payment = await pay_invoice(services, admin_of(account), invoice.id)
    secret = payment.next_action["client_secret"]
    await authenticate_payment(sandbox, payment.provider_payment_id, secret, success=True)
    # as a payment_intent.processing event would leave it, then nothing more arrived
    await Payment.filter(id=payment.id).update(
        status=PaymentStatus.PROCESSING, next_action=None, updated_at=clock.now()
    )
    clock.advance(AFTER + timedelta(seconds=1))
    provider.reset()

    report = await settle_stale(services)

    assert report.settled == 1
    assert provider.names() == ["retrieve_charge"]
    assert provider.calls_to("retrieve_charge") == [
        {"payment_intent_id": payment.provider_payment_id}
    ]
    await payment.refresh_from_db()
    assert payment.status is PaymentStatus.SUCCEEDED
    assert (await Invoice.get(id=invoice.id)).status is InvoiceStatus.PAID


async def test_worker_renewal_cut_off_is_settled_by_a_later_pass(
    services, sandbox, provider, clock, mailbox
):
    account = await make_account()
    await add_card(services, sandbox, account)
    sub = await due_subscription(account, clock.now())
    provider.fail_next("charge", ProviderUnavailableError("timeout"))

    # when the renewal's charge times out
    first = await tick(services, mailbox.smtp)
    assert (first.renewed, first.charged) == (1, 1)
    invoice = await Invoice.get(subscription_id=sub.id)
    [payment] = await Payment.filter(invoice_id=invoice.id)
    assert payment.status is PaymentStatus.PENDING and invoice.active_payment_id == payment.id
    assert await state(sub) == (SubscriptionStatus.ACTIVE, True)  # not a decline

    # then passes before the reconcile delay do nothing, the one after charges once
    provider.reset()
    clock.advance(AFTER - timedelta(seconds=1))
    assert (await tick(services, mailbox.smtp)).charged == 0
    assert provider.calls_to("charge") == []
    clock.advance(timedelta(seconds=2))
    assert (await tick(services, mailbox.smtp)).reconciled == 1
    assert len(provider.calls_to("charge")) == 1
    await invoice.refresh_from_db()
    assert invoice.status is InvoiceStatus.PAID
    assert await Payment.filter(invoice_id=invoice.id).count() == 1
    assert [m["Subject"] for m in mailbox.messages] == ["Payment received: $29.00"]
