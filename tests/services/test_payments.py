"""Paying invoices: the money path, its refusals, declines, dunning recovery, idempotency.

3-D Secure payments are in test_payments_3ds.py.
"""

from __future__ import annotations

import pytest

from models import (
    Account,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    PlanTier,
    Subscription,
    SubscriptionStatus,
)
from services.errors import (
    IdempotencyConflict,
    InvoiceNotPayable,
    NotFound,
    PaymentDeclined,
    PaymentInProgress,
    PaymentMethodNotUsable,
    PaymentMethodRequired,
    PermissionDenied,
    ProviderUnavailable,
    SelfServiceUnavailable,
)
from services.payments import STALE_PENDING_AFTER, pay_invoice
from services.provider.base import ProviderUnavailableError
from services.subscriptions import paid_features_enabled
from tests.conftest import NOW
from tests.factories import (
    DECLINING_CARD,
    THREE_DS_CARD,
    add_card,
    admin_of,
    make_account,
    make_invoice,
    subscribe,
    viewer_of,
)
from tests.services.helpers import refused

# -- the money path -----------------------------------------------------------------------


async def test_pay_open_invoice_with_the_default_card(services, sandbox, provider, clock):
    account = await make_account()
    card = await add_card(services, sandbox, account)
    invoice = await make_invoice(account, total=2900)
    provider.reset()

    paid, payment = await pay_invoice(services, admin_of(account), invoice.id)

    assert payment.status is PaymentStatus.SUCCEEDED
    assert (payment.amount, payment.currency) == (2900, "USD")
    assert payment.payment_method_id == card.id
    assert payment.provider_payment_id and payment.provider_payment_id.startswith("pi_")
    assert payment.settled_at == clock.now()
    assert paid.status is InvoiceStatus.PAID
    assert paid.amount_paid == paid.total == 2900 and paid.amount_due == 0
    assert paid.paid_at == clock.now()
    assert paid.active_payment_id is None
    assert provider.names() == ["charge"]
    (charge,) = provider.calls_to("charge")
    assert charge["amount"] == 2900 and charge["currency"] == "USD"
    assert charge["payment_method_id"] == card.provider_id
    assert charge["idempotency_key"] == payment.provider_idempotency_key
    assert charge["off_session"] is False
    assert charge["metadata"] == {
        "invoice_id": str(invoice.id),
        "payment_id": str(payment.id),
        "payment_key": payment.provider_idempotency_key,
    }


async def test_pay_with_a_chosen_card(services, sandbox, provider):
    account = await make_account()
    await add_card(services, sandbox, account)
    chosen = await add_card(services, sandbox, account)
    invoice = await make_invoice(account)
    provider.reset()

    paid, payment = await pay_invoice(
        services, admin_of(account), invoice.id, payment_method_id=chosen.id
    )

    assert payment.status is PaymentStatus.SUCCEEDED and paid.status is InvoiceStatus.PAID
    assert payment.payment_method_id == chosen.id
    assert [c["payment_method_id"] for c in provider.calls_to("charge")] == [chosen.provider_id]


# -- refusals -----------------------------------------------------------------------------


async def test_no_card_on_file_is_payment_method_required(services, provider):
    account = await make_account()
    invoice = await make_invoice(account)

    async with refused(provider, PaymentMethodRequired):
        await pay_invoice(services, admin_of(account), invoice.id)


@pytest.mark.parametrize(
    "status",
    [InvoiceStatus.PAID, InvoiceStatus.VOID, InvoiceStatus.DRAFT, InvoiceStatus.UNCOLLECTIBLE],
)
async def test_only_open_invoices_are_payable(services, sandbox, provider, status):
    account = await make_account()
    await add_card(services, sandbox, account)
    invoice = await make_invoice(account, status=status)

    async with refused(provider, InvoiceNotPayable) as info:
        await pay_invoice(services, admin_of(account), invoice.id)

    assert info.value.field == "invoiceId"


async def test_another_accounts_invoice_is_not_found(services, sandbox, provider):
    mine = await make_account("me@example.test")
    theirs = await make_account("them@example.test")
    await add_card(services, sandbox, mine)
    their_invoice = await make_invoice(theirs)

    async with refused(provider, NotFound) as info:
        await pay_invoice(services, admin_of(mine), their_invoice.id)

    assert info.value.field == "invoiceId"


async def test_paying_with_another_accounts_card_is_not_found(services, sandbox, provider):
    mine = await make_account("me@example.test")
    theirs = await make_account("them@example.test")
    await add_card(services, sandbox, mine)
    their_card = await add_card(services, sandbox, theirs)
    invoice = await make_invoice(mine)

    async with refused(provider, NotFound) as info:
        await pay_invoice(services, admin_of(mine), invoice.id, payment_method_id=their_card.id)

    assert info.value.field == "paymentMethodId"


async def test_paying_with_a_card_waiting_for_3ds_is_refused(services, sandbox, provider):
    account = await make_account()
    await add_card(services, sandbox, account)
    pending = await add_card(services, sandbox, account, THREE_DS_CARD)
    invoice = await make_invoice(account)

    async with refused(provider, PaymentMethodNotUsable):
        await pay_invoice(services, admin_of(account), invoice.id, payment_method_id=pending.id)


async def test_paying_with_an_expired_default_card_is_refused(services, sandbox, provider, clock):
    account = await make_account()
    card = await add_card(services, sandbox, account)
    await PaymentMethod.filter(id=card.id).update(exp_year=clock.now().year - 1)
    invoice = await make_invoice(account)

    async with refused(provider, PaymentMethodNotUsable) as info:
        await pay_invoice(services, admin_of(account), invoice.id)

    assert info.value.field == "paymentMethodId"


async def test_enterprise_cannot_pay_online(services, sandbox, provider):
    account = await make_account()
    await add_card(services, sandbox, account)
    invoice = await make_invoice(account)
    await Account.filter(id=account.id).update(tier=PlanTier.ENTERPRISE)

    async with refused(provider, SelfServiceUnavailable):
        await pay_invoice(services, admin_of(account), invoice.id)


async def test_viewer_cannot_pay(services, sandbox, provider):
    account = await make_account()
    await add_card(services, sandbox, account)
    invoice = await make_invoice(account)

    async with refused(provider, PermissionDenied):
        await pay_invoice(services, viewer_of(account), invoice.id)


# -- declines -----------------------------------------------------------------------------


async def test_declined_charge_is_recorded_and_the_invoice_stays_payable(
    services, sandbox, provider
):
    account = await make_account()
    await add_card(services, sandbox, account, DECLINING_CARD)
    invoice = await make_invoice(account)
    provider.reset()

    with pytest.raises(PaymentDeclined) as info:
        await pay_invoice(services, admin_of(account), invoice.id)

    failed = info.value.payment
    assert failed.status is PaymentStatus.FAILED
    assert failed.failure_code == "card_declined" and failed.failure_message
    assert provider.names() == ["charge"]
    still_open = await Invoice.get(id=invoice.id)
    assert still_open.status is InvoiceStatus.OPEN
    assert still_open.amount_paid == 0 and still_open.paid_at is None
    assert still_open.active_payment_id is None  # the claim is released

    # and then a good card pays it
    good = await add_card(services, sandbox, account, make_default=True)
    paid, payment = await pay_invoice(services, admin_of(account), invoice.id)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.payment_method_id == good.id
    assert paid.status is InvoiceStatus.PAID
    assert await Payment.filter(invoice_id=invoice.id).count() == 2


# -- dunning ------------------------------------------------------------------------------


async def test_paying_a_past_due_invoice_restores_the_subscription(services, sandbox):
    account = await make_account()
    sub = await subscribe(account, status=SubscriptionStatus.PAST_DUE)
    assert not paid_features_enabled(sub)
    await add_card(services, sandbox, account)
    invoice = await make_invoice(account, subscription=sub)

    await pay_invoice(services, admin_of(account), invoice.id)

    sub = await Subscription.get(id=sub.id)
    assert sub.status is SubscriptionStatus.ACTIVE and sub.past_due_since is None
    assert paid_features_enabled(sub)


async def test_past_due_stays_while_another_delinquent_invoice_is_open(services, sandbox):
    account = await make_account()
    sub = await subscribe(account, status=SubscriptionStatus.PAST_DUE)
    await add_card(services, sandbox, account)
    first = await make_invoice(account, subscription=sub)
    second = await make_invoice(account, subscription=sub)
    # given the second invoice's collection has failed too
    await Invoice.filter(id=second.id).update(first_failed_at=NOW)

    await pay_invoice(services, admin_of(account), first.id)

    assert (await Subscription.get(id=sub.id)).status is SubscriptionStatus.PAST_DUE


async def test_an_open_invoice_not_yet_failed_does_not_keep_it_past_due(services, sandbox):
    account = await make_account()
    sub = await subscribe(account, status=SubscriptionStatus.PAST_DUE)
    await add_card(services, sandbox, account)
    delinquent = await make_invoice(account, subscription=sub)
    await Invoice.filter(id=delinquent.id).update(first_failed_at=NOW)
    await make_invoice(account, subscription=sub)  # a bill that is simply not due yet

    await pay_invoice(services, admin_of(account), delinquent.id)

    assert (await Subscription.get(id=sub.id)).status is SubscriptionStatus.ACTIVE


# -- idempotency --------------------------------------------------------------------------


async def test_same_idempotency_key_replays_the_first_payment(services, sandbox, provider):
    account = await make_account()
    await add_card(services, sandbox, account)
    invoice = await make_invoice(account)
    provider.reset()

    _, first = await pay_invoice(services, admin_of(account), invoice.id, idempotency_key="k-1")
    paid, second = await pay_invoice(services, admin_of(account), invoice.id, idempotency_key="k-1")

    assert second.id == first.id and second.status is PaymentStatus.SUCCEEDED
    assert paid.status is InvoiceStatus.PAID
    assert provider.names() == ["charge"]
    assert await Payment.filter(invoice_id=invoice.id).count() == 1


async def test_same_idempotency_key_with_another_card_is_a_conflict(services, sandbox, provider):
    account = await make_account()
    await add_card(services, sandbox, account)
    other = await add_card(services, sandbox, account)
    invoice = await make_invoice(account)
    await pay_invoice(services, admin_of(account), invoice.id, idempotency_key="k-1")

    async with refused(provider, IdempotencyConflict) as info:
        await pay_invoice(
            services,
            admin_of(account),
            invoice.id,
            payment_method_id=other.id,
            idempotency_key="k-1",
        )

    assert info.value.field == "idempotencyKey"


async def test_same_idempotency_key_after_a_decline_replays_the_decline(
    services, sandbox, provider
):
    account = await make_account()
    await add_card(services, sandbox, account, DECLINING_CARD)
    invoice = await make_invoice(account)
    with pytest.raises(PaymentDeclined) as first:
        await pay_invoice(services, admin_of(account), invoice.id, idempotency_key="k-1")

    async with refused(provider, PaymentDeclined) as again:
        await pay_invoice(services, admin_of(account), invoice.id, idempotency_key="k-1")

    assert again.value.payment.id == first.value.payment.id
    assert again.value.payment.failure_code == "card_declined"


async def test_idempotency_keys_are_per_account(services, sandbox, provider):
    alice = await make_account("alice@example.test")
    bob = await make_account("bob@example.test")
    await add_card(services, sandbox, alice)
    await add_card(services, sandbox, bob)
    alice_invoice = await make_invoice(alice)
    bob_invoice = await make_invoice(bob)

    _, a = await pay_invoice(services, admin_of(alice), alice_invoice.id, idempotency_key="k")
    _, b = await pay_invoice(services, admin_of(bob), bob_invoice.id, idempotency_key="k")

    assert a.id != b.id and a.status is b.status is PaymentStatus.SUCCEEDED


# -- the provider times out -----------------------------------------------------------------


async def test_retry_after_a_provider_timeout_resends_with_the_same_key(
    services, sandbox, provider, clock
):
    account = await make_account()
    await add_card(services, sandbox, account)
    invoice = await make_invoice(account)
    provider.reset()
    provider.fail_next("charge", ProviderUnavailableError("read timeout"))

    # when the charge times out, then the payment stays PENDING and keeps the claim
    with pytest.raises(ProviderUnavailable):
        await pay_invoice(services, admin_of(account), invoice.id)
    pending = await Payment.get(invoice_id=invoice.id)
    assert pending.status is PaymentStatus.PENDING
    assert (await Invoice.get(id=invoice.id)).active_payment_id == pending.id

    # a retry at once is told to wait, and nothing is sent
    async with refused(provider, PaymentInProgress):
        await pay_invoice(services, admin_of(account), invoice.id)

    # a retry once the attempt is stale re-sends it under its own key: one charge in all
    clock.advance(STALE_PENDING_AFTER * 2)
    provider.reset()
    # and the caller gets the attempt that paid the invoice, not a refusal
    paid_invoice, payment = await pay_invoice(services, admin_of(account), invoice.id)
    assert payment.id == pending.id
    assert paid_invoice.status is InvoiceStatus.PAID
    assert [c["idempotency_key"] for c in provider.calls_to("charge")] == [
        pending.provider_idempotency_key
    ]
    assert await Payment.filter(invoice_id=invoice.id).count() == 1
    assert (await Payment.get(id=pending.id)).status is PaymentStatus.SUCCEEDED
    assert (await Invoice.get(id=invoice.id)).status is InvoiceStatus.PAID


async def test_same_key_after_a_timeout_resends_and_replays_the_real_outcome(
    services, sandbox, provider, clock
):
    account = await make_account()
    await add_card(services, sandbox, account)
    invoice = await make_invoice(account)
    provider.reset()
    provider.fail_next("charge", ProviderUnavailableError("read timeout"))
    with pytest.raises(ProviderUnavailable):
        await pay_invoice(services, admin_of(account), invoice.id, idempotency_key="k-1")
    pending = await Payment.get(invoice_id=invoice.id)

    # when the client retries with the same key once the attempt is stale
    clock.advance(STALE_PENDING_AFTER * 2)
    provider.reset()
    paid_invoice, payment = await pay_invoice(
        services, admin_of(account), invoice.id, idempotency_key="k-1"
    )

    # then the first attempt was re-sent under its own provider key, once, and succeeded
    assert payment.id == pending.id
    assert payment.status is PaymentStatus.SUCCEEDED
    assert paid_invoice.status is InvoiceStatus.PAID
    assert [c["idempotency_key"] for c in provider.calls_to("charge")] == [
        pending.provider_idempotency_key
    ]
    assert await Payment.filter(invoice_id=invoice.id).count() == 1
