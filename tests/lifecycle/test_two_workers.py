"""Two workers at once against PostgreSQL: every renewal, charge and email happens once."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import timedelta

import pytest

from gateway.worker import tick
from models import Invoice, InvoiceStatus, OutboxMessage, Payment, PaymentStatus, Subscription
from tests.factories import DECLINING_CARD, add_card, make_account
from tests.lifecycle.helpers import due_subscription

pytestmark = pytest.mark.postgres

ACCOUNTS = 10
PASSES = 6


async def _race(workers, smtp, caplog) -> None:
    """Each worker runs several passes back to back, all workers at the same time;
    no step may fail (a failed step is logged and retried on the next pass)."""

    async def run(ctx):
        for _ in range(PASSES):
            await tick(ctx, smtp)

    with caplog.at_level(logging.ERROR, logger="gateway.worker"):
        await asyncio.gather(*(run(ctx) for ctx in workers))
    failed = [r.getMessage() for r in caplog.records if r.name == "gateway.worker"]
    assert failed == []


async def test_each_renewal_is_issued_and_charged_once(
    services, sandbox, provider, clock, mailbox, caplog
):
    accounts = [await make_account(f"user{i}@example.test") for i in range(ACCOUNTS)]
    for account in accounts:
        await add_card(services, sandbox, account)
        await due_subscription(account, clock.now())
    provider.reset()
    workers = [services, dataclasses.replace(services)]

    await _race(workers, mailbox.smtp, caplog)

    invoices = await Invoice.all().order_by("number")
    assert len(invoices) == ACCOUNTS
    assert [i.number for i in invoices] == [f"INV-2026-{n:06d}" for n in range(1, ACCOUNTS + 1)]
    assert {i.account_id for i in invoices} == {a.id for a in accounts}
    assert all(i.status is InvoiceStatus.PAID and i.amount_paid == i.total for i in invoices)
    charges = provider.calls_to("charge")
    assert len(charges) == ACCOUNTS
    assert len({c["metadata"]["invoice_id"] for c in charges}) == ACCOUNTS
    assert await Payment.filter(status=PaymentStatus.SUCCEEDED).count() == ACCOUNTS
    assert await Payment.all().count() == ACCOUNTS
    ends = set(await Subscription.all().values_list("current_period_end", flat=True))
    assert len(ends) == 1 and ends.pop() > clock.now()
    assert await OutboxMessage.filter(status="SENT").count() == ACCOUNTS
    assert len(mailbox.messages) == ACCOUNTS


async def test_each_retry_runs_once(services, sandbox, provider, clock, mailbox, caplog):
    accounts = [await make_account(f"user{i}@example.test") for i in range(ACCOUNTS)]
    for account in accounts:
        await add_card(services, sandbox, account, DECLINING_CARD)
        await due_subscription(account, clock.now())
    workers = [services, dataclasses.replace(services)]
    await _race(workers, mailbox.smtp, caplog)  # renewals, each declined once
    assert len(provider.calls_to("charge")) == ACCOUNTS
    provider.reset()

    clock.advance(timedelta(days=1))
    await _race(workers, mailbox.smtp, caplog)

    charges = provider.calls_to("charge")
    assert len(charges) == ACCOUNTS
    assert len({c["metadata"]["invoice_id"] for c in charges}) == ACCOUNTS
    assert await Payment.filter(status=PaymentStatus.FAILED).count() == 2 * ACCOUNTS
    assert set(await Invoice.all().values_list("collection_attempts", flat=True)) == {2}
    assert await OutboxMessage.filter(template="payment_failed", status="SENT").count() == (
        2 * ACCOUNTS
    )
    assert len(mailbox.messages) == 2 * ACCOUNTS
