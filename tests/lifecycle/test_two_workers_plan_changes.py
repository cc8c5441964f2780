"""Two workers at once against PostgreSQL: scheduled downgrades and cancellations are
applied once each, at the period end, with one invoice (or none, for Free) and one email."""

from __future__ import annotations

import dataclasses

import pytest

from models import (
    Account,
    CancellationReason,
    Invoice,
    OutboxMessage,
    Payment,
    PlanTier,
    Subscription,
)
from services.cancellation import cancel_subscription
from services.plan_changes import change_plan, preview_plan_change
from tests.factories import add_card, admin_of, make_account
from tests.lifecycle.helpers import due_subscription
from tests.lifecycle.test_two_workers import _race
from tests.plan_change_helpers import catalogue

pytestmark = pytest.mark.postgres

ACCOUNTS = 6


async def test_scheduled_changes_apply_once_with_two_workers(
    services, sandbox, provider, clock, mailbox, caplog
):
    plans = await catalogue()
    downgrading, canceling = [], []
    for i in range(ACCOUNTS):
        account = await make_account(f"user{i}@example.test")
        await add_card(services, sandbox, account)
        sub = await due_subscription(account, clock.now() + clock.now().resolution)
        await Subscription.filter(id=sub.id).update(plan_id=plans.plus_5k.id)
        if i % 2:
            quote = await preview_plan_change(services, admin_of(account), None, plans.plus.id)
            await change_plan(services, admin_of(account), None, plans.plus.id, quote.token)
            downgrading.append(account)
        else:
            await cancel_subscription(
                services, admin_of(account), None, CancellationReason.SWITCHED_SERVICE
            )
            canceling.append(account)
    clock.advance(clock.now().resolution)  # the periods end now
    provider.reset()
    workers = [services, dataclasses.replace(services)]

    await _race(workers, mailbox.smtp, caplog)

    for account in downgrading:
        sub = await Subscription.get(account_id=account.id)
        assert (sub.plan_id, sub.pending_plan_id) == (plans.plus.id, None)
        assert [i.total for i in await Invoice.filter(account_id=account.id)] == [2900]
        assert (
            await OutboxMessage.filter(
                account_id=account.id, template="plan_changed", dedupe_key__contains="renewal"
            ).count()
            == 1
        )
    for account in canceling:
        sub = await Subscription.get(account_id=account.id)
        assert (sub.plan_id, sub.cancel_at_period_end) == (plans.free.id, False)
        assert await Invoice.filter(account_id=account.id).count() == 0
        assert (await Account.get(id=account.id)).tier is PlanTier.FREE
        assert (
            await OutboxMessage.filter(account_id=account.id, template="paid_plan_ended").count()
            == 1
        )
    charges = provider.calls_to("charge")
    assert sorted(c["amount"] for c in charges) == [2900] * len(downgrading)
    assert await Payment.all().count() == len(downgrading)
    ends = set(await Subscription.all().values_list("current_period_end", flat=True))
    assert len(ends) == 1 and ends.pop() > clock.now()
