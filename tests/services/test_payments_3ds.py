"""Paying an invoice with a card that needs 3-D Secure: the browser's challenge, then confirm."""

from __future__ import annotations

import pytest

from models import Account, Invoice, InvoiceStatus, Payment, PaymentStatus, PlanTier
from services.card_setup import confirm_payment_method
from services.errors import NotFound, PaymentDeclined, PermissionDenied, SelfServiceUnavailable
from services.payments import confirm_payment, pay_invoice
from tests.factories import (
    THREE_DS_CARD,
    add_card,
    admin_of,
    make_account,
    make_invoice,
    viewer_of,
)
from tests.sandbox_browser import authenticate_payment, complete_setup_3ds
from tests.services.helpers import refused

OTHER_3DS_CARD = "4000002500003155"


async def _verified_3ds_card(services, sandbox, account, number=THREE_DS_CARD, **kwargs):
    """A 3-D Secure card whose setup challenge was passed: ACTIVE, yet every charge asks again."""
    pm = await add_card(services, sandbox, account, number, **kwargs)
    await complete_setup_3ds(sandbox, pm.setup_intent_id, pm.setup_client_secret)
    pm, _ = await confirm_payment_method(services, admin_of(account), pm.id)
    return pm


@pytest.mark.parametrize("number", [THREE_DS_CARD, OTHER_3DS_CARD])
async def test_3ds_payment_needs_action_then_succeeds(services, sandbox, provider, number):
    account = await make_account()
    await _verified_3ds_card(services, sandbox, account, number)
    invoice = await make_invoice(account)

    # when paying, then the bank asks for 3-D Secure and the invoice waits
    _, payment = await pay_invoice(services, admin_of(account), invoice.id)
    assert payment.status is PaymentStatus.REQUIRES_ACTION
    secret = payment.next_action["client_secret"]
    assert secret.startswith(f"{payment.provider_payment_id}_secret_")
    waiting = await Invoice.get(id=invoice.id)
    assert waiting.status is InvoiceStatus.OPEN and waiting.active_payment_id == payment.id

    # when the cardholder passes the challenge and the page confirms
    await authenticate_payment(sandbox, payment.provider_payment_id, secret, success=True)
    provider.reset()
    paid, done = await confirm_payment(services, admin_of(account), payment.id)

    # then the payment succeeded, the invoice is paid, nothing was charged anew
    assert done.id == payment.id and done.status is PaymentStatus.SUCCEEDED
    assert done.next_action is None
    assert paid.status is InvoiceStatus.PAID and paid.amount_paid == paid.total
    assert provider.names() == ["retrieve_charge"]


async def test_failed_3ds_challenge_is_a_decline(services, sandbox):
    account = await make_account()
    await _verified_3ds_card(services, sandbox, account)
    invoice = await make_invoice(account)
    _, payment = await pay_invoice(services, admin_of(account), invoice.id)
    secret = payment.next_action["client_secret"]

    await authenticate_payment(sandbox, payment.provider_payment_id, secret, success=False)
    with pytest.raises(PaymentDeclined) as info:
        await confirm_payment(services, admin_of(account), payment.id)

    assert info.value.payment.id == payment.id
    assert info.value.payment.status is PaymentStatus.FAILED
    assert info.value.payment.failure_code == "payment_intent_authentication_failure"
    invoice = await Invoice.get(id=invoice.id)
    assert invoice.status is InvoiceStatus.OPEN and invoice.active_payment_id is None


async def test_confirm_before_the_challenge_still_requires_action(services, sandbox):
    account = await make_account()
    await _verified_3ds_card(services, sandbox, account)
    invoice = await make_invoice(account)
    _, payment = await pay_invoice(services, admin_of(account), invoice.id)

    invoice_after, again = await confirm_payment(services, admin_of(account), payment.id)

    assert again.status is PaymentStatus.REQUIRES_ACTION
    assert invoice_after.status is InvoiceStatus.OPEN


async def test_abandoned_3ds_attempt_is_canceled_when_paying_with_another_card(
    services, sandbox, provider
):
    account = await make_account()
    await _verified_3ds_card(services, sandbox, account)
    other = await add_card(services, sandbox, account)
    invoice = await make_invoice(account)
    _, abandoned = await pay_invoice(services, admin_of(account), invoice.id)
    assert abandoned.status is PaymentStatus.REQUIRES_ACTION
    provider.reset()

    paid, payment = await pay_invoice(
        services, admin_of(account), invoice.id, payment_method_id=other.id
    )

    assert payment.status is PaymentStatus.SUCCEEDED and paid.status is InvoiceStatus.PAID
    assert provider.names() == ["cancel_charge", "charge"]
    assert provider.calls_to("cancel_charge") == [
        {"payment_intent_id": abandoned.provider_payment_id}
    ]
    old = await Payment.get(id=abandoned.id)
    assert old.status is PaymentStatus.FAILED and old.failure_code == "canceled"
    assert paid.amount_paid == paid.total  # paid once, not twice


async def test_confirm_payment_is_scoped_and_needs_a_writer(services, sandbox, provider):
    account = await make_account()
    stranger = await make_account("stranger@example.test")
    await _verified_3ds_card(services, sandbox, account)
    invoice = await make_invoice(account)
    _, payment = await pay_invoice(services, admin_of(account), invoice.id)

    async with refused(provider, NotFound):
        await confirm_payment(services, admin_of(stranger), payment.id)
    async with refused(provider, PermissionDenied):
        await confirm_payment(services, viewer_of(account), payment.id)
    await Account.filter(id=account.id).update(tier=PlanTier.ENTERPRISE)
    async with refused(provider, SelfServiceUnavailable):
        await confirm_payment(services, admin_of(account), payment.id)
