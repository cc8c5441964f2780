"""Plan changes through the services against the sandbox: upgrades charged as quoted and
switched only once paid, downgrades at the period end, and every refusal changing nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from gateway.sandbox import Sandbox
from models import (
    Account,
    Invoice,
    InvoiceStatus,
    OutboxMessage,
    PaymentMethod,
    PaymentStatus,
    PlanChangeQuote,
    PlanChangeTiming,
    PlanTier,
    Subscription,
    SubscriptionStatus,
)
from services import payments
from services.clock import FixedClock
from services.context import ServiceContext
from services.errors import (
    BillingError,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    OutstandingBalance,
    PaymentDeclined,
    PaymentMethodRequired,
    PermissionDenied,
    PlanChangeNotAllowed,
    QuoteExpired,
    SelfServiceUnavailable,
)
from services.invoices import outstanding_balance
from services.plan_change_billing import ABANDONED_AFTER, release_abandoned_upgrades
from services.plan_changes import (
    QUOTE_TTL,
    cancel_pending_plan_change,
    change_plan,
    preview_plan_change,
)
from services.proration import prorate, seconds
from services.provider.recording import RecordingProvider
from services.renewals import renew_due
from tests.conftest import NOW
from tests.factories import (
    DECLINING_CARD,
    THREE_DS_CARD,
    add_card,
    admin_of,
    make_account,
    subscribe,
    viewer_of,
)
from tests.plan_change_helpers import Catalogue, all_rows, catalogue
from tests.sandbox_browser import authenticate_payment, complete_setup_3ds


@asynccontextmanager
async def refused(
    provider: RecordingProvider, error: type[BillingError]
) -> AsyncIterator[pytest.ExceptionInfo[BillingError]]:
    """The block raises `error`, calls no provider and changes no row (quotes included)."""
    before = await all_rows()
    provider.reset()
    with pytest.raises(error) as info:
        yield info
    assert provider.calls == []
    assert await all_rows() == before


@pytest.fixture
async def plans(db: str) -> Catalogue:
    return await catalogue()


async def plus_customer(
    services: ServiceContext, sandbox: Sandbox, number: str = "4242424242424242"
) -> tuple[Account, Subscription]:
    """On Plus monthly, 10 of 30 days used (subscribe's period), with a card."""
    account = await make_account()
    sub = await subscribe(account)
    await add_card(services, sandbox, account, number)
    return account, sub


async def test_upgrade_is_charged_exactly_as_previewed_and_switches_once_paid(
    services, sandbox, provider, plans
):
    account, sub = await plus_customer(services, sandbox)
    provider.reset()

    # when the customer previews Plus 5K, 20 of 30 days before the period ends
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)

    # then the preview is prorated by the second from the plans' prices
    left, whole = (
        seconds(NOW, sub.current_period_end),
        seconds(sub.current_period_start, sub.current_period_end),
    )
    credit, charge = prorate(2900, left, whole), prorate(9900, left, whole)
    assert (credit, charge) == (1933, 6600)
    assert quote.timing is PlanChangeTiming.IMMEDIATE
    assert [(line["description"], line["amount"]) for line in quote.lines] == [
        ("Unused time on Plus monthly from Nov 22, 2026 to Dec 12, 2026", -1933),
        ("Remaining time on Plus 5K (monthly) from Nov 22, 2026 to Dec 12, 2026", 6600),
    ]
    assert quote.amount_due == 4667
    assert quote.expires_at == NOW + QUOTE_TTL
    assert provider.calls == []  # a preview never reaches the provider
    assert (await Subscription.get(id=sub.id)).plan_id == plans.plus.id

    # when the change is confirmed
    outcome = await change_plan(
        services, admin_of(account), None, plans.plus_5k.id, quote.token, idempotency_key="up-1"
    )

    # then exactly the quoted amount was charged once, and the plan switched
    assert [c["amount"] for c in provider.calls_to("charge")] == [4667]
    assert outcome.invoice is not None and outcome.payment is not None
    assert outcome.payment.status is PaymentStatus.SUCCEEDED
    assert outcome.invoice.status is InvoiceStatus.PAID and outcome.invoice.total == 4667
    lines = await outcome.invoice.lines.all().order_by("position")
    assert [(x.description, x.amount) for x in lines] == [
        (line["description"], line["amount"]) for line in quote.lines
    ]
    await sub.refresh_from_db()
    assert sub.plan_id == plans.plus_5k.id
    assert (sub.current_period_start, sub.current_period_end) == (
        NOW - timedelta(days=10),
        NOW + timedelta(days=20),
    )  # same interval: the period is kept
    assert await OutboxMessage.filter(template="plan_changed").count() == 1

    # and the same key replays the answer without a second charge
    again = await change_plan(
        services, admin_of(account), None, plans.plus_5k.id, quote.token, idempotency_key="up-1"
    )
    assert again.payment is not None and again.payment.id == outcome.payment.id
    assert len(provider.calls_to("charge")) == 1


async def test_declined_upgrade_keeps_the_plan_and_leaves_no_balance(
    services, sandbox, provider, plans
):
    account, sub = await plus_customer(services, sandbox, DECLINING_CARD)
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)

    with pytest.raises(PaymentDeclined) as info:
        await change_plan(services, admin_of(account), None, plans.plus_5k.id, quote.token)

    assert info.value.payment.status is PaymentStatus.FAILED
    await sub.refresh_from_db()
    assert sub.plan_id == plans.plus.id
    invoice = await Invoice.get(id=info.value.payment.invoice_id)
    assert invoice.status is InvoiceStatus.VOID and invoice.amount_paid == 0
    assert (await outstanding_balance(account)).amount == 0
    assert (await Account.get(id=account.id)).tier is PlanTier.PLUS
    # and the quote is spent: retrying means a new preview
    async with refused(provider, QuoteExpired):
        await change_plan(services, admin_of(account), None, plans.plus_5k.id, quote.token)


async def test_3ds_upgrade_switches_when_confirmed(services, sandbox, provider, plans):
    account = await make_account()
    sub = await subscribe(account)
    pm = await add_card(services, sandbox, account, THREE_DS_CARD)
    await complete_setup_3ds(sandbox, pm.setup_intent_id, pm.setup_client_secret)
    from services.card_setup import confirm_payment_method

    await confirm_payment_method(services, admin_of(account), pm.id)
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)

    outcome = await change_plan(services, admin_of(account), None, plans.plus_5k.id, quote.token)

    assert outcome.payment is not None
    assert outcome.payment.status is PaymentStatus.REQUIRES_ACTION
    assert (await Subscription.get(id=sub.id)).plan_id == plans.plus.id  # not yet
    payment = outcome.payment
    assert payment.provider_payment_id and payment.next_action
    await authenticate_payment(
        sandbox, payment.provider_payment_id, payment.next_action["client_secret"], success=True
    )
    invoice, confirmed = await payments.confirm_payment(services, admin_of(account), payment.id)
    assert confirmed.status is PaymentStatus.SUCCEEDED and invoice.status is InvoiceStatus.PAID
    assert (await Subscription.get(id=sub.id)).plan_id == plans.plus_5k.id


async def test_3ds_upgrade_switches_when_the_webhook_reports_it(services, sandbox, provider, plans):
    from services.card_setup import confirm_payment_method
    from services.webhooks import handle_event

    account = await make_account()
    sub = await subscribe(account)
    pm = await add_card(services, sandbox, account, THREE_DS_CARD)
    await complete_setup_3ds(sandbox, pm.setup_intent_id, pm.setup_client_secret)
    await confirm_payment_method(services, admin_of(account), pm.id)
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)
    outcome = await change_plan(services, admin_of(account), None, plans.plus_5k.id, quote.token)
    payment = outcome.payment
    assert payment is not None and payment.provider_payment_id and payment.next_action
    await authenticate_payment(
        sandbox, payment.provider_payment_id, payment.next_action["client_secret"], success=True
    )

    # when the provider's webhook says so (the browser never came back to confirm)
    event = {
        "id": "evt_upgrade_1",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": payment.provider_payment_id, "metadata": {}}},
    }
    assert await handle_event(services, event) == "applied"

    assert (await Subscription.get(id=sub.id)).plan_id == plans.plus_5k.id
    assert await handle_event(services, event) == "duplicate"


async def test_abandoned_3ds_upgrade_is_released_by_the_worker(
    services, sandbox, provider, plans, clock: FixedClock
):
    account = await make_account()
    sub = await subscribe(account)
    pm = await add_card(services, sandbox, account, THREE_DS_CARD)
    await complete_setup_3ds(sandbox, pm.setup_intent_id, pm.setup_client_secret)
    from services.card_setup import confirm_payment_method

    await confirm_payment_method(services, admin_of(account), pm.id)
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)
    outcome = await change_plan(services, admin_of(account), None, plans.plus_5k.id, quote.token)
    assert outcome.invoice is not None
    assert await release_abandoned_upgrades(services) == 0  # not abandoned yet

    clock.advance(ABANDONED_AFTER + timedelta(seconds=1))
    assert await release_abandoned_upgrades(services) == 1

    await outcome.invoice.refresh_from_db()
    assert outcome.invoice.status is InvoiceStatus.VOID
    assert (await Subscription.get(id=sub.id)).plan_id == plans.plus.id
    assert provider.calls_to("cancel_charge")
    assert (await outstanding_balance(account)).amount == 0


async def test_interval_change_starts_a_new_period_at_full_price_minus_credit(
    services, sandbox, provider, plans
):
    account, sub = await plus_customer(services, sandbox)

    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_yearly.id)
    outcome = await change_plan(
        services, admin_of(account), None, plans.plus_yearly.id, quote.token
    )

    assert quote.amount_due == 29000 - 1933
    assert outcome.invoice is not None and outcome.invoice.total == 27067
    await sub.refresh_from_db()
    assert sub.plan_id == plans.plus_yearly.id
    assert sub.current_period_start == NOW
    assert sub.current_period_end == NOW.replace(year=2027)


async def test_free_to_paid_needs_a_card_then_starts_a_new_period(
    services, sandbox, provider, plans
):
    account = await make_account(tier=PlanTier.FREE)
    sub = await subscribe(account)
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus.id)
    assert quote.amount_due == 2900 and len(quote.lines) == 1

    async with refused(provider, PaymentMethodRequired):
        await change_plan(services, admin_of(account), None, plans.plus.id, quote.token)

    await add_card(services, sandbox, account)
    outcome = await change_plan(services, admin_of(account), None, plans.plus.id, quote.token)

    assert outcome.invoice is not None and outcome.invoice.status is InvoiceStatus.PAID
    await sub.refresh_from_db()
    assert (sub.plan_id, sub.current_period_start) == (plans.plus.id, NOW)
    assert sub.current_period_end == NOW.replace(month=12)
    assert (await Account.get(id=account.id)).tier is PlanTier.PLUS


async def test_downgrade_waits_for_the_period_end_and_renews_once_on_the_new_plan(
    services, sandbox, provider, plans, clock: FixedClock
):
    account, sub = await plus_customer(services, sandbox)
    await Subscription.filter(id=sub.id).update(plan_id=plans.plus_5k.id)
    provider.reset()

    quote = await preview_plan_change(services, admin_of(account), None, plans.plus.id)
    outcome = await change_plan(services, admin_of(account), None, plans.plus.id, quote.token)

    assert quote.timing is PlanChangeTiming.PERIOD_END and quote.lines == []
    assert outcome.invoice is None and outcome.payment is None
    await sub.refresh_from_db()
    assert (sub.plan_id, sub.pending_plan_id) == (plans.plus_5k.id, plans.plus.id)
    assert provider.calls == []

    clock.set(sub.current_period_end)
    assert (await renew_due(services)).renewed == 1
    assert (await renew_due(services)).renewed == 0

    await sub.refresh_from_db()
    assert (sub.plan_id, sub.pending_plan_id) == (plans.plus.id, None)
    invoice = await Invoice.get(subscription_id=sub.id)
    assert invoice.total == 2900  # the renewal bills the new plan


async def test_a_scheduled_downgrade_can_be_undone(services, sandbox, provider, plans):
    account, sub = await plus_customer(services, sandbox)
    quote = await preview_plan_change(services, admin_of(account), None, plans.free.id)
    await change_plan(services, admin_of(account), None, plans.free.id, quote.token)
    assert (await Subscription.get(id=sub.id)).pending_plan_id == plans.free.id

    undone = await cancel_pending_plan_change(services, admin_of(account), None)

    assert undone.pending_plan_id is None and undone.plan_id == plans.plus.id


async def test_downgrade_to_free_issues_no_invoice_at_renewal(
    services, sandbox, provider, plans, clock: FixedClock
):
    account, sub = await plus_customer(services, sandbox)
    quote = await preview_plan_change(services, admin_of(account), None, plans.free.id)
    await change_plan(services, admin_of(account), None, plans.free.id, quote.token)

    clock.set(sub.current_period_end)
    await renew_due(services)

    await sub.refresh_from_db()
    assert sub.plan_id == plans.free.id
    assert await Invoice.filter(account_id=account.id).count() == 0
    assert (await Account.get(id=account.id)).tier is PlanTier.FREE
    assert await OutboxMessage.filter(template="paid_plan_ended").count() == 1


async def test_resume_after_the_period_end_is_refused_and_the_renewal_ends_the_plan(
    services, sandbox, provider, plans, clock: FixedClock
):
    from models import CancellationReason
    from services.cancellation import cancel_subscription, resume_subscription

    account, sub = await plus_customer(services, sandbox)
    await cancel_subscription(services, admin_of(account), None, CancellationReason.UNUSED)
    clock.set(sub.current_period_end)  # ended; the renewal job has not run yet

    async with refused(provider, PlanChangeNotAllowed):
        await resume_subscription(services, admin_of(account), None)

    await renew_due(services)
    await sub.refresh_from_db()
    assert sub.plan_id == plans.free.id
    assert await Invoice.filter(account_id=account.id).count() == 0


async def test_a_second_upgrade_credits_the_plan_price(
    services, sandbox, provider, plans, clock: FixedClock
):
    account, sub = await plus_customer(services, sandbox)
    first = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)
    await change_plan(services, admin_of(account), None, plans.plus_5k.id, first.token)
    clock.advance(timedelta(days=5))

    second = await preview_plan_change(services, admin_of(account), None, plans.plus_yearly.id)

    left = seconds(clock.now(), sub.current_period_end)
    whole = seconds(sub.current_period_start, sub.current_period_end)
    assert second.lines[0]["amount"] == -prorate(9900, left, whole)  # 5K's price, 15 of 30
    assert second.lines[0]["amount"] == -4950
    assert -second.lines[0]["amount"] <= first.amount_due + 1933  # never more than was paid


async def test_quote_misuse_is_quote_expired_and_charges_nothing(
    services, sandbox, provider, plans, clock: FixedClock
):
    account, _ = await plus_customer(services, sandbox)
    other = await make_account("bob@example.test", name="Bob")
    await subscribe(other)
    theirs = await preview_plan_change(services, admin_of(other), None, plans.plus_5k.id)
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)
    admin = admin_of(account)

    for token, plan_id in [
        ("qt_made_up_quote_id", plans.plus_5k.id),
        ("not a quote at all", plans.plus_5k.id),
        (theirs.token, plans.plus_5k.id),  # another account's quote
        (quote.token, plans.plus_yearly.id),  # a quote for another plan
    ]:
        async with refused(provider, QuoteExpired) as info:
            await change_plan(services, admin, None, plan_id, token)
        assert info.value.field == "quoteId"

    clock.advance(QUOTE_TTL)
    async with refused(provider, QuoteExpired):
        await change_plan(services, admin, None, plans.plus_5k.id, quote.token)


async def test_a_quote_no_longer_matching_the_subscription_is_expired(
    services, sandbox, provider, plans
):
    account, _ = await plus_customer(services, sandbox)
    stale = await preview_plan_change(services, admin_of(account), None, plans.plus_yearly.id)
    upgrade = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)
    await change_plan(services, admin_of(account), None, plans.plus_5k.id, upgrade.token)

    async with refused(provider, QuoteExpired):
        await change_plan(services, admin_of(account), None, plans.plus_yearly.id, stale.token)


async def test_idempotency_key_reused_for_another_quote_conflicts(
    services, sandbox, provider, plans
):
    account, _ = await plus_customer(services, sandbox)
    first = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)
    await change_plan(
        services, admin_of(account), None, plans.plus_5k.id, first.token, idempotency_key="k"
    )
    other = await preview_plan_change(services, admin_of(account), None, plans.plus_yearly.id)

    async with refused(provider, IdempotencyConflict):
        await change_plan(
            services,
            admin_of(account),
            None,
            plans.plus_yearly.id,
            other.token,
            idempotency_key="k",
        )


async def test_past_due_refuses_upgrades_but_not_downgrades(services, sandbox, provider, plans):
    account = await make_account()
    sub = await subscribe(account, status=SubscriptionStatus.PAST_DUE)
    await add_card(services, sandbox, account)

    async with refused(provider, OutstandingBalance):
        await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)

    quote = await preview_plan_change(services, admin_of(account), None, plans.free.id)
    await change_plan(services, admin_of(account), None, plans.free.id, quote.token)
    assert (await Subscription.get(id=sub.id)).pending_plan_id == plans.free.id

    from models import CancellationReason
    from services.cancellation import cancel_subscription

    canceled = await cancel_subscription(
        services, admin_of(account), None, CancellationReason.TOO_EXPENSIVE
    )
    assert canceled.cancel_at_period_end and canceled.status is SubscriptionStatus.PAST_DUE


async def test_who_and_what_may_not_change(services, sandbox, provider, plans):
    account, _ = await plus_customer(services, sandbox)
    big = await make_account("big@example.test", tier=PlanTier.ENTERPRISE)
    await subscribe(big)

    cases: list[tuple[object, int, type[BillingError]]] = [
        (viewer_of(account), plans.plus_5k.id, PermissionDenied),
        (admin_of(big), plans.plus_5k.id, SelfServiceUnavailable),
        (admin_of(account), plans.enterprise.id, PlanChangeNotAllowed),
        (admin_of(account), plans.plus.id, InvalidInput),  # the plan it is on
        (admin_of(account), 999_999, NotFound),
    ]
    for principal, plan_id, error in cases:
        async with refused(provider, error):
            await preview_plan_change(services, principal, None, plan_id)  # type: ignore[arg-type]
        async with refused(provider, error):
            await change_plan(services, principal, None, plan_id, "qt_x")  # type: ignore[arg-type]


async def test_changing_while_canceling_keeps_the_plan(services, sandbox, provider, plans):
    from models import CancellationReason
    from services.cancellation import cancel_subscription

    account, sub = await plus_customer(services, sandbox)
    await cancel_subscription(services, admin_of(account), None, CancellationReason.UNUSED)
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)

    await change_plan(services, admin_of(account), None, plans.plus_5k.id, quote.token)

    await sub.refresh_from_db()
    assert sub.plan_id == plans.plus_5k.id and not sub.cancel_at_period_end


async def test_quote_rows_record_use(services, sandbox, provider, plans):
    account, _ = await plus_customer(services, sandbox)
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)

    await change_plan(services, admin_of(account), None, plans.plus_5k.id, quote.token)

    used = await PlanChangeQuote.get(id=quote.id)
    assert used.used_at == NOW and used.applied_at == NOW and used.invoice_id is not None


async def test_each_change_writes_its_billing_events(services, sandbox, provider, plans):
    from models import BillingEvent, CancellationReason
    from services.cancellation import cancel_subscription, resume_subscription
    from services.card_edits import update_payment_method

    async def written() -> list[str]:
        rows = await BillingEvent.all().order_by("id")
        await BillingEvent.all().delete()
        return [str(row.type) for row in rows]

    account, _ = await plus_customer(services, sandbox)
    declining, _ = await plus_customer_on(services, sandbox, "bob@example.test", DECLINING_CARD)
    await written()
    admin = admin_of(account)

    quote = await preview_plan_change(services, admin, None, plans.plus_5k.id)
    assert await written() == []  # a preview changes nothing
    await change_plan(services, admin, None, plans.plus_5k.id, quote.token)
    assert sorted(await written()) == sorted(
        ["INVOICE_CREATED", "PAYMENT_SUCCEEDED", "INVOICE_PAID", "SUBSCRIPTION_UPDATED"]
    )
    quote = await preview_plan_change(services, admin_of(declining), None, plans.plus_5k.id)
    with pytest.raises(PaymentDeclined):
        await change_plan(services, admin_of(declining), None, plans.plus_5k.id, quote.token)
    assert sorted(await written()) == ["INVOICE_CREATED", "INVOICE_VOIDED", "PAYMENT_FAILED"]
    await cancel_subscription(services, admin, None, CancellationReason.UNUSED)
    await resume_subscription(services, admin, None)
    await resume_subscription(services, admin, None)  # nothing to resume: nothing written
    assert await written() == ["SUBSCRIPTION_UPDATED", "SUBSCRIPTION_UPDATED"]
    card = await PaymentMethod.get(account_id=account.id)
    await update_payment_method(services, admin, card.id, exp_month=6, exp_year=2031)
    assert await written() == ["PAYMENT_METHOD_UPDATED"]


async def plus_customer_on(
    services: ServiceContext, sandbox: Sandbox, email: str, number: str
) -> tuple[Account, Subscription]:
    account = await make_account(email, name=email)
    sub = await subscribe(account)
    await add_card(services, sandbox, account, number)
    return account, sub


async def test_a_new_upgrade_cancels_the_one_left_in_3ds(services, sandbox, provider, plans):
    from services.card_setup import confirm_payment_method

    account = await make_account()
    sub = await subscribe(account)
    pm = await add_card(services, sandbox, account, THREE_DS_CARD)
    await complete_setup_3ds(sandbox, pm.setup_intent_id, pm.setup_client_secret)
    await confirm_payment_method(services, admin_of(account), pm.id)
    first = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)
    abandoned = await change_plan(services, admin_of(account), None, plans.plus_5k.id, first.token)

    # when the customer starts another upgrade instead of finishing the first
    second = await preview_plan_change(services, admin_of(account), None, plans.plus_yearly.id)
    current = await change_plan(
        services, admin_of(account), None, plans.plus_yearly.id, second.token
    )

    # then the first is canceled at the provider and its invoice voided: only one can be paid
    assert abandoned.invoice is not None and current.invoice is not None
    await abandoned.invoice.refresh_from_db()
    assert abandoned.invoice.status is InvoiceStatus.VOID
    assert current.payment is not None
    assert current.payment.status is PaymentStatus.REQUIRES_ACTION
    assert await Invoice.filter(account_id=account.id, status=InvoiceStatus.OPEN).count() == 1
    assert len(provider.calls_to("cancel_charge")) == 1
    assert (await Subscription.get(id=sub.id)).plan_id == plans.plus.id
