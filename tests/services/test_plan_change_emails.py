"""The emails of plan changes, rendered from the outbox rows the changes wrote."""

from __future__ import annotations

from models import CancellationReason, OutboxMessage
from services.cancellation import cancel_subscription
from services.notifications.render import render_email
from services.plan_changes import change_plan, preview_plan_change
from services.renewals import renew_due
from tests.factories import add_card, admin_of, make_account, subscribe
from tests.plan_change_helpers import catalogue


async def _rendered(template: str) -> tuple[str, str]:
    (message,) = await OutboxMessage.filter(template=template)
    email = render_email(message.template, message.context)
    assert message.context["account_name"] in email.html  # autoescaped, but there
    return email.subject, email.text


async def test_upgrade_downgrade_cancel_and_the_end_of_a_paid_plan(
    services, sandbox, provider, clock
):
    plans = await catalogue()
    account = await make_account()
    sub = await subscribe(account)
    await add_card(services, sandbox, account)
    admin = admin_of(account)

    quote = await preview_plan_change(services, admin, None, plans.plus_5k.id)
    await change_plan(services, admin, None, plans.plus_5k.id, quote.token)
    subject, text = await _rendered("plan_changed")
    assert subject == "You are now on Plus 5K (monthly)"
    assert "We charged $46.67 for the change" in text
    assert "Your next bill, $99.00, is on Dec 12, 2026." in text
    await OutboxMessage.filter(template="plan_changed").delete()

    quote = await preview_plan_change(services, admin, None, plans.plus.id)
    await change_plan(services, admin, None, plans.plus.id, quote.token)
    subject, text = await _rendered("plan_changed")
    assert subject == "Your plan changes to Plus monthly on Dec 12, 2026"
    assert "Nothing is charged today" in text

    await cancel_subscription(services, admin, None, CancellationReason.UNUSED)
    subject, text = await _rendered("cancellation_scheduled")
    assert subject == "Your Plus 5K (monthly) subscription ends on Dec 12, 2026"
    assert "Resume the subscription in the billing portal before Dec 12, 2026" in text

    await sub.refresh_from_db()
    clock.set(sub.current_period_end)
    await renew_due(services)
    subject, text = await _rendered("paid_plan_ended")
    assert subject == "Your Plus 5K (monthly) plan has ended"
    assert "your account is now on the Free monthly plan" in text


async def test_resume_undo_and_card_edit_confirmations(services, sandbox, provider):
    from models import PaymentMethod
    from services.cancellation import resume_subscription
    from services.card_edits import update_payment_method
    from services.plan_changes import cancel_pending_plan_change

    plans = await catalogue()
    account = await make_account()
    await subscribe(account)
    await add_card(services, sandbox, account)
    admin = admin_of(account)

    await cancel_subscription(services, admin, None, CancellationReason.OTHER)
    await resume_subscription(services, admin, None)
    await resume_subscription(services, admin, None)  # nothing to resume: no second email
    subject, text = await _rendered("subscription_resumed")
    assert subject == "Your Plus monthly subscription continues"
    assert "renews on Dec 12, 2026" in text

    quote = await preview_plan_change(services, admin, None, plans.free.id)
    await change_plan(services, admin, None, plans.free.id, quote.token)
    await cancel_pending_plan_change(services, admin, None)
    await cancel_pending_plan_change(services, admin, None)  # nothing pending: no email
    subject, text = await _rendered("plan_change_canceled")
    assert subject == "You stay on Plus monthly"
    assert "The change to Free monthly you had scheduled is canceled" in text

    card = await PaymentMethod.get(account_id=account.id)
    await update_payment_method(services, admin, card.id, exp_month=3, exp_year=2031)
    subject, text = await _rendered("payment_method_updated")
    assert subject == "Your Visa card ending 4242 was updated"
    assert "it now expires 03/2031" in text
