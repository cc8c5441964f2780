"""Dunning: a declined renewal turns the subscription past due, retries run on a
schedule, a payment restores it at once, and an exhausted schedule ends it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from gateway.worker import tick
from models import Invoice, InvoiceStatus, Payment, PaymentStatus, SubscriptionStatus
from services.card_setup import confirm_payment_method
from services.payment_methods import make_default
from services.payments import confirm_payment, pay_invoice
from services.policy import BillingPolicy
from tests.factories import (
    DECLINING_CARD,
    THREE_DS_CARD,
    add_card,
    admin_of,
    make_account,
)
from tests.lifecycle.helpers import all_rows, due_subscription, parts, queued, state
from tests.sandbox_browser import authenticate_payment, complete_setup_3ds

DAY = timedelta(days=1)
PORTAL = BillingPolicy().portal_url


async def _declined_renewal(services, sandbox, clock, mailbox):
    """Given a past-due subscription: its renewal was declined on the default card."""
    account = await make_account()
    declining = await add_card(services, sandbox, account, DECLINING_CARD)
    sub = await due_subscription(account, clock.now())
    await tick(services, mailbox.smtp)
    invoice = await Invoice.get(subscription_id=sub.id)
    return account, declining, sub, invoice


async def _verified_3ds_card(services, sandbox, account):
    pm = await add_card(services, sandbox, account, THREE_DS_CARD)
    await complete_setup_3ds(sandbox, pm.setup_intent_id, pm.setup_client_secret)
    pm, _ = await confirm_payment_method(services, admin_of(account), pm.id)
    return pm


async def test_declined_renewal_turns_past_due_and_tells_the_customer(
    services, sandbox, provider, clock, mailbox
):
    account, declining, sub, invoice = await _declined_renewal(services, sandbox, clock, mailbox)

    # then one charge was declined, the invoice waits for its retry tomorrow
    assert len(provider.calls_to("charge")) == 1
    [payment] = await Payment.filter(invoice_id=invoice.id)
    assert payment.status is PaymentStatus.FAILED and payment.payment_method_id == declining.id
    assert payment.failure_code == "card_declined"
    assert invoice.status is InvoiceStatus.OPEN and invoice.active_payment_id is None
    assert invoice.first_failed_at == clock.now() and invoice.collection_attempts == 1
    assert invoice.next_attempt_at == clock.now() + DAY
    # and the subscription is past due with paid features off
    assert await state(sub) == (SubscriptionStatus.PAST_DUE, False)
    assert sub.past_due_since == clock.now()
    # and the customer got an email with amount, card, reason, next retry and portal link
    [email] = await queued()
    assert (email.template, email.status) == ("payment_failed", "SENT")
    [mail] = mailbox.messages
    assert mail["To"] == account.email and mail["Subject"] == "Your payment of $29.00 failed"
    for body in parts(mail):
        assert "$29.00" in body and invoice.number in body
        assert "Visa card ending 0341" in body
        assert "The card was declined." in body
        assert "Nov 23, 2026" in body and PORTAL in body


async def test_retry_still_declined_sends_the_next_date(
    services, sandbox, provider, clock, mailbox
):
    _, _, sub, invoice = await _declined_renewal(services, sandbox, clock, mailbox)
    provider.reset()

    # when a day passes, then the worker retries with the same card, and it fails again
    clock.advance(DAY - timedelta(seconds=1))
    assert (await tick(services, mailbox.smtp)).charged == 0
    clock.advance(timedelta(seconds=1))
    assert (await tick(services, mailbox.smtp)).charged == 1

    assert len(provider.calls_to("charge")) == 1
    assert await state(sub) == (SubscriptionStatus.PAST_DUE, False)
    await invoice.refresh_from_db()
    assert invoice.collection_attempts == 2
    assert invoice.next_attempt_at == invoice.first_failed_at + 3 * DAY
    assert await Payment.filter(invoice_id=invoice.id, status=PaymentStatus.FAILED).count() == 2
    assert len(mailbox.messages) == 2
    text, html = parts(mailbox.messages[1])
    assert "Nov 25, 2026" in text and "Nov 25, 2026" in html


async def test_a_new_default_card_is_used_by_the_next_retry(
    services, sandbox, provider, clock, mailbox
):
    account, _, sub, invoice = await _declined_renewal(services, sandbox, clock, mailbox)
    clock.advance(DAY)
    await tick(services, mailbox.smtp)  # second decline

    # when the customer adds a good card and makes it the default
    good = await add_card(services, sandbox, account)
    await make_default(services, admin_of(account), good.id)
    assert await state(sub) == (SubscriptionStatus.PAST_DUE, False)  # not paid yet
    provider.reset()

    # then the next retry (day 3) charges the new card, and access is back at once
    clock.advance(2 * DAY)
    await tick(services, mailbox.smtp)
    [charge] = provider.calls_to("charge")
    assert charge["payment_method_id"] == good.provider_id and charge["off_session"]
    await invoice.refresh_from_db()
    assert invoice.status is InvoiceStatus.PAID and invoice.next_attempt_at is None
    assert await state(sub) == (SubscriptionStatus.ACTIVE, True)
    assert sub.past_due_since is None
    statuses = (
        await Payment.filter(invoice_id=invoice.id).order_by("id").values_list("status", flat=True)
    )
    assert statuses == [PaymentStatus.FAILED, PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]
    # and the confirmation email says so
    assert [m.template for m in await queued()] == ["payment_failed"] * 2 + ["payment_succeeded"]
    text, html = parts(mailbox.messages[-1])
    assert "active again" in text and "active again" in html
    assert "Visa card ending 4242" in text

    # and no later retry charges anything
    provider.reset()
    clock.advance(10 * DAY)
    await tick(services, mailbox.smtp)
    assert provider.calls_to("charge") == []


async def test_paying_from_the_portal_restores_at_once_and_cancels_the_retry(
    services, sandbox, provider, clock, mailbox
):
    account, _, sub, invoice = await _declined_renewal(services, sandbox, clock, mailbox)
    good = await add_card(services, sandbox, account)
    provider.reset()

    # when the customer pays with the new card before the retry is due
    clock.advance(timedelta(hours=3))
    paid, payment = await pay_invoice(
        services, admin_of(account), invoice.id, payment_method_id=good.id
    )

    # then the invoice is paid and the subscription active at once
    assert paid.status is InvoiceStatus.PAID and payment.status is PaymentStatus.SUCCEEDED
    assert not payment.off_session and len(provider.calls_to("charge")) == 1
    assert await state(sub) == (SubscriptionStatus.ACTIVE, True)
    [confirmation] = await queued("payment_succeeded")
    assert confirmation.context["restored"] is True
    assert confirmation.status == "PENDING"  # goes out with the next worker pass

    # when the retry's time comes, then nothing is charged and only the email goes out
    before = await all_rows()
    provider.reset()
    clock.advance(DAY)
    report = await tick(services, mailbox.smtp)
    assert (report.charged, report.emailed) == (0, 1)
    assert provider.calls == []
    after = await all_rows()
    assert after["Invoice"] == before["Invoice"] and after["Payment"] == before["Payment"]
    assert after["Subscription"] == before["Subscription"]
    assert mailbox.messages[-1]["Subject"] == "Payment received: $29.00"


@pytest.mark.parametrize("final", [SubscriptionStatus.CANCELED, SubscriptionStatus.UNPAID])
async def test_exhausted_schedule_ends_the_subscription(
    services, sandbox, provider, clock, mailbox, final
):
    ctx = dataclasses.replace(services, policy=BillingPolicy(retry_days=(1, 3), final_status=final))
    _, _, sub, invoice = await _declined_renewal(ctx, sandbox, clock, mailbox)

    # when both retries (day 1 and day 3) fail too
    clock.advance(DAY)
    await tick(ctx, mailbox.smtp)
    assert await state(sub) == (SubscriptionStatus.PAST_DUE, False)
    clock.advance(2 * DAY)
    await tick(ctx, mailbox.smtp)

    # then the subscription ends and the customer is told
    assert len(provider.calls_to("charge")) == 3
    assert await state(sub) == (final, False)
    assert (sub.canceled_at is not None) is (final is SubscriptionStatus.CANCELED)
    await invoice.refresh_from_db()
    assert invoice.status is InvoiceStatus.OPEN and invoice.next_attempt_at is None
    templates = [m.template for m in await queued()]
    assert templates == ["payment_failed", "payment_failed", "subscription_ended"]
    ended = mailbox.messages[-1]
    word = "canceled" if final is SubscriptionStatus.CANCELED else "unpaid"
    assert ended["Subject"] == f"Your subscription {'was' if word == 'canceled' else 'is'} {word}"
    assert all(PORTAL in body for body in parts(ended))

    # and nothing more is tried, and the ended subscription is not renewed
    provider.reset()
    clock.advance(40 * DAY)
    await tick(ctx, mailbox.smtp)
    assert provider.calls_to("charge") == [] and len(mailbox.messages) == 3
    assert await Invoice.all().count() == 1


async def _renewal_needing_3ds(services, sandbox, clock, mailbox):
    account = await make_account()
    card = await _verified_3ds_card(services, sandbox, account)
    assert card.is_default
    sub = await due_subscription(account, clock.now())
    await tick(services, mailbox.smtp)
    invoice = await Invoice.get(subscription_id=sub.id)
    [payment] = await Payment.filter(invoice_id=invoice.id)
    return account, sub, invoice, payment


async def test_off_session_3ds_asks_the_customer_then_authentication_pays(
    services, sandbox, provider, clock, mailbox
):
    account, sub, invoice, payment = await _renewal_needing_3ds(services, sandbox, clock, mailbox)

    # then the payment waits for the customer, the invoice stays open
    assert payment.status is PaymentStatus.REQUIRES_ACTION and payment.off_session
    assert invoice.status is InvoiceStatus.OPEN and invoice.active_payment_id == payment.id
    assert invoice.next_attempt_at == clock.now() + DAY
    assert await state(sub) == (SubscriptionStatus.PAST_DUE, False)
    [mail] = mailbox.messages
    assert mail["Subject"] == "Confirm your payment of $29.00"
    assert all(PORTAL in body and invoice.number in body for body in parts(mail))

    # when the customer authenticates in the portal and the page confirms
    secret = payment.next_action["client_secret"]
    await authenticate_payment(sandbox, payment.provider_payment_id, secret, success=True)
    provider.reset()
    paid, done = await confirm_payment(services, admin_of(account), payment.id)

    # then it is paid without a new charge, and access is back
    assert done.status is PaymentStatus.SUCCEEDED and paid.status is InvoiceStatus.PAID
    assert provider.names() == ["retrieve_charge"]
    assert await state(sub) == (SubscriptionStatus.ACTIVE, True)
    assert [m.template for m in await queued()] == [
        "authentication_required",
        "payment_succeeded",
    ]


async def test_unanswered_3ds_is_canceled_by_the_next_retry(
    services, sandbox, provider, clock, mailbox
):
    account, sub, invoice, first = await _renewal_needing_3ds(services, sandbox, clock, mailbox)
    provider.reset()

    # when the retry comes and the customer never authenticated
    clock.advance(DAY)
    await tick(services, mailbox.smtp)

    # then the stuck attempt is canceled and a new one asks again
    assert provider.names()[:2] == ["cancel_charge", "charge"]
    assert provider.calls_to("cancel_charge") == [{"payment_intent_id": first.provider_payment_id}]
    await first.refresh_from_db()
    assert first.status is PaymentStatus.FAILED and first.failure_code == "canceled"
    second = await Payment.get(invoice_id=invoice.id, status=PaymentStatus.REQUIRES_ACTION)
    await invoice.refresh_from_db()
    assert invoice.active_payment_id == second.id and invoice.collection_attempts == 2
    assert invoice.next_attempt_at == invoice.first_failed_at + 3 * DAY
    assert [m.template for m in await queued()] == ["authentication_required"] * 2

    # when the customer authenticates the new attempt
    secret = second.next_action["client_secret"]
    await authenticate_payment(sandbox, second.provider_payment_id, secret, success=True)
    await confirm_payment(services, admin_of(account), second.id)

    # then exactly one payment succeeded, and the subscription is active
    statuses = (
        await Payment.filter(invoice_id=invoice.id).order_by("id").values_list("status", flat=True)
    )
    assert statuses == [PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]
    assert await state(sub) == (SubscriptionStatus.ACTIVE, True)
    await invoice.refresh_from_db()
    assert invoice.status is InvoiceStatus.PAID and invoice.amount_paid == invoice.total


async def test_3ds_passed_but_never_confirmed_is_recorded_not_charged_again(
    services, sandbox, provider, clock, mailbox
):
    _, sub, invoice, payment = await _renewal_needing_3ds(services, sandbox, clock, mailbox)
    # the customer passed the challenge, but the page closed before confirmPayment
    secret = payment.next_action["client_secret"]
    await authenticate_payment(sandbox, payment.provider_payment_id, secret, success=True)
    provider.reset()

    clock.advance(DAY)
    await tick(services, mailbox.smtp)

    # then the retry finds the success instead of charging a second time
    assert provider.calls_to("charge") == []
    await payment.refresh_from_db()
    assert payment.status is PaymentStatus.SUCCEEDED
    await invoice.refresh_from_db()
    assert invoice.status is InvoiceStatus.PAID and invoice.amount_paid == invoice.total
    assert await Payment.filter(invoice_id=invoice.id).count() == 1
    assert await state(sub) == (SubscriptionStatus.ACTIVE, True)


async def test_an_ended_subscription_stops_retrying_its_other_invoices(
    services, sandbox, provider, clock, mailbox
):
    ctx = dataclasses.replace(services, policy=BillingPolicy(retry_days=(1, 3)))
    _, _, sub, first = await _declined_renewal(ctx, sandbox, clock, mailbox)
    # given a second delinquent invoice of the same subscription, due for a retry later
    second = await Invoice.create(
        account_id=first.account_id,
        subscription_id=sub.id,
        number="INV-TEST-2",
        status=InvoiceStatus.OPEN,
        currency="USD",
        period_start=first.period_end,
        period_end=first.period_end + 30 * DAY,
        subtotal=first.total,
        total=first.total,
        auto_collect=True,
        collection_attempts=1,
        first_failed_at=clock.now(),
        next_attempt_at=clock.now() + 10 * DAY,
        created_at=clock.now(),
    )

    # when the first invoice exhausts its schedule and the subscription ends
    clock.advance(DAY)
    await tick(ctx, mailbox.smtp)
    clock.advance(2 * DAY)
    await tick(ctx, mailbox.smtp)
    assert (await state(sub))[0] is SubscriptionStatus.CANCELED

    # then the other open invoice stays payable but is never charged automatically again
    provider.reset()
    clock.advance(20 * DAY)
    await tick(ctx, mailbox.smtp)
    await second.refresh_from_db()
    assert second.status is InvoiceStatus.OPEN and second.next_attempt_at is None
    assert provider.calls_to("charge") == []
    assert [m.template for m in await queued()].count("subscription_ended") == 1


async def test_paying_an_unpaid_subscription_restarts_billing_today(
    services, sandbox, provider, clock, mailbox
):
    ctx = dataclasses.replace(
        services,
        policy=BillingPolicy(retry_days=(1,), final_status=SubscriptionStatus.UNPAID),
    )
    account, _, sub, invoice = await _declined_renewal(ctx, sandbox, clock, mailbox)
    clock.advance(DAY)
    await tick(ctx, mailbox.smtp)
    assert (await state(sub))[0] is SubscriptionStatus.UNPAID

    # when the customer comes back three months later and pays with a good card
    clock.advance(90 * DAY)
    good = await add_card(ctx, sandbox, account)
    await make_default(ctx, admin_of(account), good.id)
    await pay_invoice(ctx, admin_of(account), invoice.id)

    # then the subscription is active, its new period starts today, and the worker
    # does not back-bill the three months it was off
    await sub.refresh_from_db()
    assert sub.status is SubscriptionStatus.ACTIVE
    assert sub.current_period_start == clock.now()
    provider.reset()
    await tick(ctx, mailbox.smtp)
    assert provider.calls_to("charge") == []
    assert await Invoice.filter(subscription_id=sub.id).count() == 1
