"""No path makes a card that cannot pay the default: adding an expired card is refused
(both add paths), a setup settled late never makes an expired card the default, and
a default that expires hands over to a usable card when it is next charged."""

from __future__ import annotations

import pytest

from models import PaymentMethod, PaymentMethodStatus
from services.card_setup import (
    add_payment_method,
    confirm_payment_method,
    settle_card_setup,
    start_setup,
)
from services.errors import CardDeclined, PaymentMethodNotUsable
from services.payment_methods import make_default
from services.payments import pay_invoice
from tests.factories import (
    OK_CARD,
    THREE_DS_CARD,
    add_card,
    admin_of,
    make_account,
    make_invoice,
    subscribe,
)
from tests.sandbox_browser import (
    complete_setup_3ds,
    confirm_card_setup,
    create_card_payment_method,
)
from tests.services.helpers import defaults_of, refused

# The test clock reads 2026-11-22: October 2026 is past, November 2026 still good.
PAST = {"exp_month": 10, "exp_year": 2026}


@pytest.mark.parametrize("make_default_flag", [False, True])
async def test_token_first_expired_card_is_refused_and_detached(
    services, sandbox, provider, make_default_flag
):
    # given a good default card, and an expired card tokenized by the browser
    account = await make_account()
    good = await add_card(services, sandbox, account)
    token = await create_card_payment_method(sandbox, OK_CARD, **PAST)

    # when it is added (asking for it as the default or not)
    async with refused(provider, CardDeclined, provider_calls=True) as info:
        await add_payment_method(
            services, admin_of(account), account.id, token, make_default=make_default_flag
        )

    # then CARD_DECLINED / expired_card, nothing stored, the default unchanged, and the
    # card we attached is detached again
    assert info.value.code == "CARD_DECLINED"
    assert info.value.decline_code == "expired_card"
    assert "10/2026" in info.value.message
    assert await defaults_of(account) == [good.id]
    assert provider.names() == ["setup_payment_method", "detach_payment_method"]
    assert provider.calls_to("detach_payment_method") == [{"payment_method_id": token}]


async def test_setup_first_expired_card_is_refused_and_never_attached(services, sandbox, provider):
    account = await make_account()
    started = await start_setup(services, admin_of(account), account.id)
    seti = await confirm_card_setup(sandbox, started.client_secret, OK_CARD, **PAST)

    async with refused(provider, CardDeclined, provider_calls=True) as info:
        await add_payment_method(services, admin_of(account), account.id, seti, make_default=True)

    assert (info.value.code, info.value.decline_code) == ("CARD_DECLINED", "expired_card")
    # the sandbox leaves the card unattached: nothing to attach, nothing to detach
    assert provider.names() == ["retrieve_setup_intent"]
    assert await PaymentMethod.filter(account_id=account.id).count() == 0


async def test_a_card_good_through_this_month_is_accepted(services, sandbox):
    account = await make_account()
    token = await create_card_payment_method(sandbox, OK_CARD, exp_month=11, exp_year=2026)

    pm, _ = await add_payment_method(services, admin_of(account), account.id, token)

    assert pm.status is PaymentMethodStatus.ACTIVE and pm.is_default


async def test_unconfirmed_setup_is_not_declined_but_not_confirmed_yet(services, sandbox, provider):
    # given a setup the browser never confirmed (no card entered yet)
    account = await make_account()
    started = await start_setup(services, admin_of(account), account.id)

    async with refused(provider, PaymentMethodNotUsable, provider_calls=True) as info:
        await add_payment_method(services, admin_of(account), account.id, started.setup_intent_id)

    assert info.value.status == "REQUIRES_ACTION"
    assert info.value.field == "providerToken"
    assert "not confirmed yet" in info.value.message
    assert "declined" not in info.value.message


async def test_3ds_card_verified_after_it_expired_is_refused_and_removed(
    services, sandbox, provider, clock
):
    # given a 3-D Secure card (good through 11/2026) added while valid, asking to be default
    account = await make_account()
    first = await add_card(services, sandbox, account)
    token = await create_card_payment_method(sandbox, THREE_DS_CARD, exp_month=11, exp_year=2026)
    pm, action = await add_payment_method(
        services, admin_of(account), account.id, token, make_default=True
    )
    assert action is not None
    await complete_setup_3ds(sandbox, pm.setup_intent_id, action.client_secret)

    # when the challenge is confirmed only in December
    clock.set(clock.now().replace(month=12, day=2))
    provider.reset()
    with pytest.raises(CardDeclined) as info:
        await confirm_payment_method(services, admin_of(account), pm.id)

    # then it is refused as expired, removed, detached, and the default did not move
    assert info.value.decline_code == "expired_card"
    assert (await PaymentMethod.get(id=pm.id)).status is PaymentMethodStatus.DELETED
    assert await defaults_of(account) == [first.id]
    assert provider.names() == ["retrieve_setup_intent", "detach_payment_method"]


async def test_webhook_settling_an_expired_card_never_makes_it_the_default(
    services, sandbox, clock
):
    # given the only card is a 3-D Secure card (good through 11/2026), still pending
    account = await make_account()
    pm, _ = await add_payment_method(
        services,
        admin_of(account),
        account.id,
        await create_card_payment_method(sandbox, THREE_DS_CARD, exp_month=11, exp_year=2026),
        make_default=True,
    )
    clock.set(clock.now().replace(month=12, day=2))

    # when the provider's webhook settles it after it expired
    settled = await settle_card_setup(pm.id, succeeded=True, now=clock.now())

    # then it is removed, not made the default
    assert settled.status is PaymentMethodStatus.DELETED and not settled.is_default
    assert await defaults_of(account) == []


async def test_make_default_says_the_card_expired(services, sandbox, provider, clock):
    account = await make_account()
    await add_card(services, sandbox, account)
    old = await add_card(services, sandbox, account)
    await PaymentMethod.filter(id=old.id).update(exp_month=10, exp_year=2026)

    async with refused(provider, PaymentMethodNotUsable) as info:
        await make_default(services, admin_of(account), old.id)

    assert info.value.status == "EXPIRED"
    assert "expired" in info.value.message and "10/2026" in info.value.message


async def test_make_default_says_the_card_is_not_verified(services, sandbox, provider):
    account = await make_account()
    await add_card(services, sandbox, account)
    pending = await add_card(services, sandbox, account, THREE_DS_CARD)

    async with refused(provider, PaymentMethodNotUsable) as info:
        await make_default(services, admin_of(account), pending.id)

    assert info.value.status == "REQUIRES_ACTION"
    assert "3-D Secure" in info.value.message


async def test_an_expired_default_hands_over_to_a_usable_card_when_charged(
    services, sandbox, provider, clock
):
    # given a default card good through 11/2026 and a spare good through 2030
    account = await make_account()
    expiring = await add_card(services, sandbox, account)
    await PaymentMethod.filter(id=expiring.id).update(exp_month=11, exp_year=2026)
    spare = await add_card(services, sandbox, account)
    # when December comes and an invoice is paid without choosing a card
    clock.set(clock.now().replace(month=12, day=2))
    invoice = await make_invoice(account)

    _, payment = await pay_invoice(services, admin_of(account), invoice.id)

    # then the spare paid it and is now the one default
    assert payment.payment_method_id == spare.id
    assert await defaults_of(account) == [spare.id]


async def test_an_expired_default_with_no_other_card_says_expired(
    services, sandbox, provider, clock
):
    account = await make_account()
    await subscribe(account)
    card = await add_card(services, sandbox, account)
    await PaymentMethod.filter(id=card.id).update(exp_month=11, exp_year=2026)
    clock.set(clock.now().replace(month=12, day=2))
    invoice = await make_invoice(account)

    async with refused(provider, PaymentMethodNotUsable) as info:
        await pay_invoice(services, admin_of(account), invoice.id)

    assert info.value.status == "EXPIRED"
    assert await defaults_of(account) == [card.id]


async def test_the_worker_charges_a_usable_card_when_the_default_expired(
    services, sandbox, provider, clock
):
    from models import Invoice, Payment, PaymentStatus
    from services.collection import collect_due

    # given a default card good through 11/2026 and a spare, and a renewal due in December
    account = await make_account()
    expiring = await add_card(services, sandbox, account)
    await PaymentMethod.filter(id=expiring.id).update(exp_month=11, exp_year=2026)
    spare = await add_card(services, sandbox, account)
    invoice = await make_invoice(account)
    clock.set(clock.now().replace(month=12, day=2))
    await Invoice.filter(id=invoice.id).update(auto_collect=True, next_attempt_at=clock.now())

    # when the worker collects it off-session
    report = await collect_due(services)

    # then the spare paid it and took over as the default
    [payment] = await Payment.filter(invoice_id=invoice.id)
    assert report.succeeded == 1 and payment.status is PaymentStatus.SUCCEEDED
    assert payment.payment_method_id == spare.id
    assert await defaults_of(account) == [spare.id]


async def test_an_expired_default_can_be_deleted_when_a_usable_card_takes_over(
    services, sandbox, provider, clock
):
    from models import PlanTier
    from services.errors import DefaultPaymentMethodRequired
    from services.payment_methods import delete_payment_method

    # given a paid plan whose default card expired, and a spare good card
    account = await make_account(tier=PlanTier.PLUS)
    await subscribe(account)
    expired = await add_card(services, sandbox, account)
    await PaymentMethod.filter(id=expired.id).update(exp_month=10, exp_year=2026)
    spare = await add_card(services, sandbox, account)

    # when the expired default is deleted, then it goes and the spare is the default
    await delete_payment_method(services, admin_of(account), expired.id)
    assert await defaults_of(account) == [spare.id]

    # and the spare, now the only usable card, cannot go: add another first
    async with refused(provider, DefaultPaymentMethodRequired) as info:
        await delete_payment_method(services, admin_of(account), spare.id)
    assert "add another card first" in info.value.message
