"""When re-sending is unsafe or useless, the reconciler reads the provider's books.

A payment key unique to our row is in every charge's metadata, so the lookup finds
exactly our charge among everything the shared sandbox holds.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Account, Invoice, InvoiceStatus, Payment, PaymentStatus
from services.errors import ProviderUnavailable
from services.payments import pay_invoice
from services.provider.base import ProviderUnavailableError
from services.reconcile import settle_stale
from tests.factories import add_card, admin_of, make_account, make_invoice


async def _cut_off_payment(services, sandbox, provider, *, charged: bool) -> Payment:
    """A PENDING payment whose answer was lost; `charged`: the provider did charge it."""
    account = await make_account()
    pm = await add_card(services, sandbox, account)
    invoice = await make_invoice(account)
    provider.fail_next("charge", ProviderUnavailableError("read timeout"))
    with pytest.raises(ProviderUnavailable):
        await pay_invoice(services, admin_of(account), invoice.id)
    payment = await Payment.get(invoice_id=invoice.id)
    if charged:  # what the provider did before the answer got lost
        fresh = await Account.get(id=account.id)
        await provider.inner.charge(
            customer_id=fresh.provider_customer_id or "",
            payment_method_id=pm.provider_id,
            amount=payment.amount,
            currency=payment.currency,
            idempotency_key=payment.provider_idempotency_key,
            off_session=False,
            metadata={
                "invoice_id": str(invoice.id),
                "payment_id": str(payment.id),
                "payment_key": payment.provider_idempotency_key,
            },
        )
    return payment


async def test_a_day_old_pending_charge_is_looked_up_not_resent(services, sandbox, provider, clock):
    payment = await _cut_off_payment(services, sandbox, provider, charged=True)
    clock.advance(timedelta(hours=24))  # the provider may have forgotten the key
    provider.reset()

    report = await settle_stale(services)

    assert report.settled == 1
    assert provider.calls_to("charge") == []
    await payment.refresh_from_db()
    assert payment.status is PaymentStatus.SUCCEEDED
    assert (await Invoice.get(id=payment.invoice_id)).status is InvoiceStatus.PAID


async def test_a_day_old_pending_payment_the_provider_never_saw_is_failed_safely(
    services, sandbox, provider, clock
):
    payment = await _cut_off_payment(services, sandbox, provider, charged=False)
    clock.advance(timedelta(hours=24))
    provider.reset()

    await settle_stale(services)

    assert provider.calls_to("charge") == []
    await payment.refresh_from_db()
    assert payment.status is PaymentStatus.FAILED and payment.failure_code == "not_sent"
    invoice = await Invoice.get(id=payment.invoice_id)
    assert invoice.status is InvoiceStatus.OPEN and invoice.active_payment_id is None


async def test_resends_that_keep_failing_fall_back_to_the_lookup(
    services, sandbox, provider, clock
):
    payment = await _cut_off_payment(services, sandbox, provider, charged=True)
    clock.advance(timedelta(hours=2))
    provider.reset()
    # given every re-send answers 5xx (Stripe replays a stored 500 for the key)
    provider.fail_next("charge", ProviderUnavailableError("stored 500"))

    await settle_stale(services)

    await payment.refresh_from_db()
    assert payment.status is PaymentStatus.SUCCEEDED
    assert provider.names().count("list_charges") == 1
