"""Renewals: at period end the worker issues the next invoice and charges it off-session."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from gateway.worker import tick
from models import (
    BillingInterval,
    Invoice,
    InvoiceStatus,
    OutboxMessage,
    Payment,
    PaymentMethod,
    PaymentStatus,
    PlanTier,
    Subscription,
    SubscriptionStatus,
)
from services.policy import BillingPolicy
from services.renewals import add_interval, renew_due
from tests.factories import add_card, make_account, make_invoice
from tests.lifecycle.helpers import all_rows, due_subscription, parts, queued, state

RECEIPTS = "https://billing.test/receipts/{}.pdf"


def _utc(*args: int) -> datetime:
    return datetime(*args, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "interval", "end"),
    [
        (_utc(2027, 1, 31), BillingInterval.MONTH, _utc(2027, 2, 28)),
        (_utc(2028, 1, 31), BillingInterval.MONTH, _utc(2028, 2, 29)),
        (_utc(2026, 3, 31), BillingInterval.MONTH, _utc(2026, 4, 30)),
        (_utc(2026, 12, 15), BillingInterval.MONTH, _utc(2027, 1, 15)),
        (_utc(2026, 11, 22), BillingInterval.MONTH, _utc(2026, 12, 22)),
        (_utc(2028, 2, 29), BillingInterval.YEAR, _utc(2029, 2, 28)),
        (_utc(2026, 11, 22), BillingInterval.YEAR, _utc(2027, 11, 22)),
    ],
)
def test_add_interval_is_one_calendar_period_clamped_to_month_end(start, interval, end):
    assert add_interval(start, interval) == end


def test_the_anchor_day_comes_back_after_a_short_month():
    feb = add_interval(_utc(2027, 1, 31), BillingInterval.MONTH, 31)
    mar = add_interval(feb, BillingInterval.MONTH, 31)
    apr = add_interval(mar, BillingInterval.MONTH, 31)
    assert (feb, mar, apr) == (_utc(2027, 2, 28), _utc(2027, 3, 31), _utc(2027, 4, 30))


async def test_renewals_keep_the_month_end_anchor(services, sandbox, clock, mailbox):
    account = await make_account()
    await add_card(services, sandbox, account)
    jan31 = _utc(2027, 1, 31)
    clock.set(jan31)
    sub = await due_subscription(account, jan31)

    await tick(services, mailbox.smtp)  # renews Jan 31 → Feb 28
    clock.set(_utc(2027, 2, 28))
    await tick(services, mailbox.smtp)  # renews Feb 28 → Mar 31, not Mar 28

    await sub.refresh_from_db()
    assert sub.billing_anchor_day == 31
    assert (sub.current_period_start, sub.current_period_end) == (
        _utc(2027, 2, 28),
        _utc(2027, 3, 31),
    )
    periods = await Invoice.filter(subscription_id=sub.id).order_by("period_start")
    assert [(i.period_start.day, i.period_end.day) for i in periods] == [(31, 28), (28, 31)]


@pytest.fixture
def with_receipts(services):
    """The services with a receipt link builder, as the app wires document links."""
    return dataclasses.replace(services, policy=BillingPolicy(receipt_link=RECEIPTS.format))


async def test_renewal_issues_the_next_invoice_and_charges_the_default_card(
    with_receipts, sandbox, provider, clock, mailbox
):
    # given an account with a card, an earlier invoice, and a period ending now
    account = await make_account()
    card = await add_card(with_receipts, sandbox, account)
    earlier = await make_invoice(account, status=InvoiceStatus.PAID)
    sub = await due_subscription(account, clock.now())
    old_end = sub.current_period_end
    before = await all_rows()
    provider.reset()

    # when renewals run alone, then the next invoice is issued, open and due at once
    report = await renew_due(with_receipts)
    assert report.renewed == 1 and len(report.invoices) == 1
    invoice = await Invoice.get(id=report.invoices[0])
    assert invoice.status is InvoiceStatus.OPEN and invoice.auto_collect
    assert earlier.number == "INV-2026-000001" and invoice.number == "INV-2026-000002"
    assert (invoice.period_start, invoice.period_end) == (old_end, _utc(2026, 12, 22))
    assert invoice.total == 2900 and invoice.next_attempt_at == clock.now()
    assert invoice.billing_snapshot is not None
    await sub.refresh_from_db()
    assert (sub.current_period_start, sub.current_period_end) == (old_end, _utc(2026, 12, 22))
    assert provider.calls == []

    # when the whole worker pass runs
    result = await tick(with_receipts, mailbox.smtp)

    # then one off-session charge with the default card paid it
    assert (result.renewed, result.charged, result.emailed) == (0, 1, 1)
    [payment] = await Payment.filter(invoice_id=invoice.id)
    await account.refresh_from_db()
    assert provider.calls_to("charge") == [
        {
            "customer_id": account.provider_customer_id,
            "payment_method_id": card.provider_id,
            "amount": 2900,
            "currency": "USD",
            "idempotency_key": payment.provider_idempotency_key,
            "off_session": True,
            "metadata": {
                "invoice_id": str(invoice.id),
                "payment_id": str(payment.id),
                "payment_key": payment.provider_idempotency_key,
            },
        }
    ]
    assert payment.status is PaymentStatus.SUCCEEDED and payment.off_session
    assert payment.payment_method_id == card.id
    await invoice.refresh_from_db()
    assert invoice.status is InvoiceStatus.PAID and invoice.amount_paid == 2900
    assert invoice.paid_at == clock.now() and invoice.active_payment_id is None
    assert invoice.next_attempt_at is None and invoice.collection_attempts == 1
    assert await state(sub) == (SubscriptionStatus.ACTIVE, True)

    # and the receipt email was queued and delivered, with text, HTML and the receipt link
    [queued_email] = await queued()
    assert queued_email.template == "payment_succeeded" and queued_email.status == "SENT"
    [mail] = mailbox.messages
    assert mail["To"] == account.email and mail["Subject"] == "Payment received: $29.00"
    text, html = parts(mail)
    for body in (text, html):
        assert RECEIPTS.format(invoice.id) in body
        assert "INV-2026-000002" in body and "Visa card ending 4242" in body
    assert "active again" not in text  # it never stopped

    # and nothing else changed: the earlier invoice, the card, the other rows
    after = await all_rows()
    assert after["PaymentMethod"] == before["PaymentMethod"]
    assert [i for i in after["Invoice"] if i["id"] != invoice.id] == before["Invoice"]


async def test_a_second_pass_issues_and_charges_nothing(
    services, sandbox, provider, clock, mailbox
):
    account = await make_account()
    await add_card(services, sandbox, account)
    await due_subscription(account, clock.now())
    await tick(services, mailbox.smtp)
    before = await all_rows()
    provider.reset()

    again = await tick(services, mailbox.smtp)

    assert (again.renewed, again.charged, again.reconciled, again.emailed) == (0, 0, 0, 0)
    assert provider.calls == []
    assert await all_rows() == before
    assert len(mailbox.messages) == 1


async def test_renewal_numbers_are_gapless_and_consecutive(services, sandbox, provider, clock):
    accounts = [await make_account(f"user{i}@example.test") for i in range(3)]
    await make_invoice(accounts[0], status=InvoiceStatus.PAID)
    for account in accounts:
        await add_card(services, sandbox, account)
        await due_subscription(account, clock.now())

    await renew_due(services)

    numbers = sorted(await Invoice.all().values_list("number", flat=True))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 5)]


async def test_the_next_period_renews_a_month_later(services, sandbox, provider, clock, mailbox):
    account = await make_account()
    await add_card(services, sandbox, account)
    sub = await due_subscription(account, clock.now())
    await tick(services, mailbox.smtp)

    clock.set(_utc(2026, 12, 21))
    assert (await tick(services, mailbox.smtp)).renewed == 0
    clock.set(_utc(2026, 12, 22))
    assert (await tick(services, mailbox.smtp)).renewed == 1

    await sub.refresh_from_db()
    assert sub.current_period_end == _utc(2027, 1, 22)
    paid = await Invoice.filter(status=InvoiceStatus.PAID).order_by("id")
    assert [i.number for i in paid] == ["INV-2026-000001", "INV-2026-000002"]
    assert len(provider.calls_to("charge")) == 2 and len(mailbox.messages) == 2


async def test_free_plan_renews_without_an_invoice(services, provider, clock, mailbox):
    account = await make_account("free@example.test", tier=PlanTier.FREE)
    sub = await due_subscription(account, clock.now(), price=0)
    provider.reset()

    report = await tick(services, mailbox.smtp)

    assert report.renewed == 1 and report.charged == 0
    await sub.refresh_from_db()
    assert sub.current_period_start == clock.now()
    assert sub.current_period_end == _utc(2026, 12, 22)
    assert await state(sub) == (SubscriptionStatus.ACTIVE, True)
    assert await Invoice.all().count() == 0 and await Payment.all().count() == 0
    assert await OutboxMessage.all().count() == 0 and mailbox.messages == []
    assert provider.calls == [] and await PaymentMethod.all().count() == 0
    assert await Subscription.all().count() == 1
