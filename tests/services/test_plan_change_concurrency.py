"""Races on PostgreSQL: one quote, many changePlan calls at once, one charge; an upgrade
racing a cancellation or a scheduled downgrade leaves one consistent subscription."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from models import CancellationReason, Invoice, InvoiceStatus, Payment, PaymentStatus
from services.cancellation import cancel_subscription
from services.errors import BillingError
from services.plan_changes import change_plan, preview_plan_change
from tests.factories import add_card, admin_of, make_account, subscribe
from tests.plan_change_helpers import catalogue

pytestmark = pytest.mark.postgres

CALLERS = 12


async def _outcome(call) -> str:
    try:
        outcome = await call
    except BillingError as exc:
        return exc.code
    return outcome.payment.status.value if outcome.payment else "SCHEDULED"


@pytest.mark.parametrize("same_key", [False, True], ids=["no key", "same key"])
async def test_one_quote_many_callers_one_charge(services, sandbox, provider, same_key):
    plans = await catalogue()
    account = await make_account()
    sub = await subscribe(account)
    await add_card(services, sandbox, account)
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)
    provider.reset()

    results = await asyncio.gather(
        *(
            _outcome(
                change_plan(
                    services,
                    admin_of(account),
                    None,
                    plans.plus_5k.id,
                    quote.token,
                    idempotency_key="same" if same_key else None,
                )
            )
            for _ in range(CALLERS)
        )
    )

    counts = Counter(results)
    assert counts["SUCCEEDED"] >= 1, counts
    # Without a key a loser either finds the quote used or, when it arrives while the
    # winner's charge is in flight, that upgrade's payment in progress: both charge nothing.
    refusals = (
        {"PAYMENT_IN_PROGRESS"}
        if same_key
        else {"QUOTE_EXPIRED", "INVALID_INPUT", "PAYMENT_IN_PROGRESS"}
    )
    assert set(counts) - {"SUCCEEDED"} <= refusals, counts
    assert [c["amount"] for c in provider.calls_to("charge")] == [quote.amount_due]
    assert await Invoice.filter(account_id=account.id).count() == 1
    assert await Payment.filter(account_id=account.id, status=PaymentStatus.SUCCEEDED).count() == 1
    await sub.refresh_from_db()
    assert sub.plan_id == plans.plus_5k.id


async def test_an_upgrade_racing_a_cancellation(services, sandbox, provider):
    plans = await catalogue()
    account = await make_account()
    sub = await subscribe(account)
    await add_card(services, sandbox, account)
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)

    async def cancel() -> str:
        try:
            await cancel_subscription(services, admin_of(account), None, CancellationReason.OTHER)
        except BillingError as exc:
            return exc.code
        return "CANCELED"

    upgrade, canceled = await asyncio.gather(
        _outcome(change_plan(services, admin_of(account), None, plans.plus_5k.id, quote.token)),
        cancel(),
    )

    # whichever came first, the upgrade is paid once and the plan is the one paid for; a
    # cancellation that landed before the switch is cleared by it (the customer chose to
    # stay on a paid plan), one that landed after it stands
    assert (upgrade, canceled) == ("SUCCEEDED", "CANCELED")
    await sub.refresh_from_db()
    assert sub.plan_id == plans.plus_5k.id
    assert len(provider.calls_to("charge")) == 1
    assert (await Invoice.get(account_id=account.id)).status is InvoiceStatus.PAID
    if sub.cancel_at_period_end:
        assert sub.cancellation_reason is CancellationReason.OTHER
    else:
        assert sub.cancellation_reason is None and sub.pending_plan_id is None
