"""`find_drift`: the provider's books against ours, on a sandbox of the test's own."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from gateway.sandbox import start_sandbox
from models import Invoice, Payment, PaymentStatus
from services.context import ServiceContext
from services.drift import find_drift
from services.payments import pay_invoice
from services.provider.stripe import StripeProvider
from tests.factories import add_card, admin_of, make_account, make_invoice


@pytest.fixture
async def own(services: ServiceContext) -> AsyncIterator[tuple[ServiceContext, object]]:
    """A fresh sandbox, so charges made by other tests are not in its books."""
    box = start_sandbox()
    provider = StripeProvider(
        box.secret_key, box.publishable_key, api_base=box.api_base, timeout_s=10
    )
    try:
        yield dataclasses.replace(services, provider=provider), box
    finally:
        await provider.close()
        box.stop()


async def _paid(ctx: ServiceContext, box: object) -> tuple[Invoice, Payment]:
    account = await make_account()
    await add_card(ctx, box, account)  # type: ignore[arg-type]
    invoice = await make_invoice(account)
    return await pay_invoice(ctx, admin_of(account), invoice.id)


async def test_books_that_agree_show_no_drift(own):
    ctx, box = own
    await _paid(ctx, box)
    assert await find_drift(ctx.provider) == []


@pytest.mark.no_ledger_check
async def test_a_charge_we_recorded_as_failed_is_missing(own):
    ctx, box = own
    invoice, payment = await _paid(ctx, box)
    # given our row says the charge failed (a lost answer recorded wrongly)
    await Payment.filter(id=payment.id).update(status=PaymentStatus.FAILED)
    await Invoice.filter(id=invoice.id).update(amount_paid=0, status="OPEN")

    drift = await find_drift(ctx.provider)

    assert [(d.kind, d.payment_id) for d in drift] == [("missing", payment.id)]


@pytest.mark.no_ledger_check
async def test_two_succeeded_charges_for_one_invoice_are_a_duplicate(own):
    ctx, box = own
    invoice, payment = await _paid(ctx, box)
    pm = await payment.payment_method
    account = await invoice.account
    # given a second charge for the same invoice reached the provider
    await ctx.provider.charge(
        customer_id=account.provider_customer_id or "",
        payment_method_id=pm.provider_id if pm else "",
        amount=payment.amount,
        currency=payment.currency,
        idempotency_key="second",
        off_session=True,
        metadata={"invoice_id": str(invoice.id), "payment_id": str(payment.id)},
    )

    kinds = sorted(d.kind for d in await find_drift(ctx.provider))

    assert kinds == ["duplicate"]


@pytest.mark.no_ledger_check
async def test_a_success_the_provider_does_not_know_is_unbacked(own):
    ctx, box = own
    _, payment = await _paid(ctx, box)
    await Payment.filter(id=payment.id).update(provider_payment_id="pi_unknown")

    drift = await find_drift(ctx.provider)

    assert [(d.kind, d.payment_id, d.provider_id) for d in drift] == [
        ("unbacked", payment.id, "pi_unknown")
    ]
