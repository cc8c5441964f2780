"""Adding a card: token first (pm_...) and setup first (seti_...), with and without 3-D Secure."""

from __future__ import annotations

import pytest

from models import CardFunding, PaymentMethod, PaymentMethodStatus
from services.addresses import Address
from services.card_setup import (
    add_payment_method,
    confirm_payment_method,
    start_setup,
)
from services.errors import CardDeclined, InvalidInput, NotFound
from tests.factories import (
    OK_CARD,
    REFUSED_CARD,
    THREE_DS_CARD,
    add_card,
    admin_of,
    make_account,
)
from tests.sandbox_browser import (
    complete_setup_3ds,
    confirm_card_setup,
    create_card_payment_method,
)
from tests.services.helpers import defaults_of, refused


async def _add_token(services, sandbox, account, number=OK_CARD, **kwargs):
    token = await create_card_payment_method(sandbox, number)
    return await add_payment_method(services, admin_of(account), account.id, token, **kwargs)


# -- token first --------------------------------------------------------------------------


async def test_token_first_ok_card_is_active(services, sandbox, provider):
    account = await make_account()
    token = await create_card_payment_method(sandbox, OK_CARD, exp_month=7, exp_year=2031)
    provider.reset()

    pm, next_action = await add_payment_method(services, admin_of(account), account.id, token)

    assert next_action is None
    assert pm.status is PaymentMethodStatus.ACTIVE
    assert (pm.provider_id, pm.brand, pm.last4) == (token, "visa", "4242")
    assert (pm.exp_month, pm.exp_year) == (7, 2031)
    assert pm.funding in set(CardFunding)
    assert pm.setup_client_secret is None
    assert provider.names() == ["create_customer", "setup_payment_method"]
    await account.refresh_from_db()
    assert account.provider_customer_id is not None


async def test_token_first_3ds_card_waits_for_the_challenge(services, sandbox):
    account = await make_account()

    pm, next_action = await _add_token(services, sandbox, account, THREE_DS_CARD)

    assert pm.status is PaymentMethodStatus.REQUIRES_ACTION
    assert next_action is not None and next_action.client_secret
    assert next_action.client_secret == pm.setup_client_secret
    assert next_action.client_secret.startswith(f"{pm.setup_intent_id}_secret_")
    assert not pm.is_default  # not while pending, even as the first card
    assert await defaults_of(account) == []


async def test_confirm_before_the_challenge_is_done_still_requires_action(services, sandbox):
    account = await make_account()
    pm, first_action = await _add_token(services, sandbox, account, THREE_DS_CARD)

    again, next_action = await confirm_payment_method(services, admin_of(account), pm.id)

    assert again.status is PaymentMethodStatus.REQUIRES_ACTION
    assert next_action == first_action
    assert await defaults_of(account) == []


async def test_first_3ds_card_becomes_active_and_default_after_the_challenge(
    services, sandbox, provider
):
    account = await make_account()
    pm, action = await _add_token(services, sandbox, account, THREE_DS_CARD)
    await complete_setup_3ds(sandbox, pm.setup_intent_id, action.client_secret)
    provider.reset()

    done, next_action = await confirm_payment_method(services, admin_of(account), pm.id)

    assert next_action is None
    assert done.status is PaymentMethodStatus.ACTIVE
    assert done.is_default
    assert done.setup_client_secret is None
    assert await defaults_of(account) == [pm.id]
    assert provider.names() == ["retrieve_setup_intent"]


@pytest.mark.parametrize("make_default", [False, True])
async def test_3ds_card_next_to_a_default_only_takes_over_when_asked(
    services, sandbox, make_default
):
    account = await make_account()
    first = await add_card(services, sandbox, account)
    pm, action = await _add_token(
        services, sandbox, account, THREE_DS_CARD, make_default=make_default
    )
    assert await defaults_of(account) == [first.id]  # the pending card does not take over yet
    await complete_setup_3ds(sandbox, pm.setup_intent_id, action.client_secret)

    done, _ = await confirm_payment_method(services, admin_of(account), pm.id)

    assert done.status is PaymentMethodStatus.ACTIVE
    assert await defaults_of(account) == [pm.id if make_default else first.id]


async def test_failed_challenge_removes_the_card(services, sandbox):
    account = await make_account()
    pm, action = await _add_token(services, sandbox, account, THREE_DS_CARD)
    await complete_setup_3ds(sandbox, pm.setup_intent_id, action.client_secret, success=False)

    with pytest.raises(CardDeclined):
        await confirm_payment_method(services, admin_of(account), pm.id)

    assert (await PaymentMethod.get(id=pm.id)).status is PaymentMethodStatus.DELETED
    assert await defaults_of(account) == []


async def test_confirm_an_active_card_is_a_no_op(services, sandbox, provider):
    account = await make_account()
    pm = await add_card(services, sandbox, account)
    provider.reset()

    same, next_action = await confirm_payment_method(services, admin_of(account), pm.id)

    assert (same.id, same.status, next_action) == (pm.id, PaymentMethodStatus.ACTIVE, None)
    assert provider.calls == []


async def test_same_token_twice_returns_the_same_row(services, sandbox, provider):
    account = await make_account()
    token = await create_card_payment_method(sandbox, OK_CARD)
    first, _ = await add_payment_method(services, admin_of(account), account.id, token)
    provider.reset()

    second, _ = await add_payment_method(services, admin_of(account), account.id, token)

    assert second.id == first.id
    assert await PaymentMethod.filter(account_id=account.id).count() == 1
    assert provider.calls == []


# -- setup first --------------------------------------------------------------------------


async def test_setup_first_flow_stores_an_active_default_card(services, sandbox, provider):
    account = await make_account()
    started = await start_setup(services, admin_of(account), account.id)
    assert started.client_secret.startswith(f"{started.setup_intent_id}_secret_")
    seti = await confirm_card_setup(sandbox, started.client_secret, OK_CARD)
    assert seti == started.setup_intent_id
    provider.reset()

    pm, next_action = await add_payment_method(services, admin_of(account), account.id, seti)

    assert next_action is None
    assert pm.status is PaymentMethodStatus.ACTIVE
    assert pm.is_default
    assert pm.setup_intent_id == seti and pm.provider_id.startswith("pm_")
    assert pm.last4 == "4242"
    assert provider.names() == ["retrieve_setup_intent", "attach_payment_method"]


async def test_setup_first_with_3ds_done_in_the_browser_is_active(services, sandbox):
    account = await make_account()
    started = await start_setup(services, admin_of(account), account.id)
    seti = await confirm_card_setup(sandbox, started.client_secret, THREE_DS_CARD)

    pm, next_action = await add_payment_method(services, admin_of(account), account.id, seti)

    assert next_action is None
    assert pm.status is PaymentMethodStatus.ACTIVE
    assert pm.last4 == THREE_DS_CARD[-4:]


async def test_setup_first_with_3ds_finished_later_attaches_the_card(services, sandbox, provider):
    # given a setup-first card whose 3-D Secure the browser had not finished when added
    account = await make_account()
    started = await start_setup(services, admin_of(account), account.id)
    seti = await confirm_card_setup(
        sandbox, started.client_secret, THREE_DS_CARD, authenticate=None
    )
    pm, next_action = await add_payment_method(services, admin_of(account), account.id, seti)
    assert pm.status is PaymentMethodStatus.REQUIRES_ACTION
    assert next_action is not None and next_action.client_secret == started.client_secret
    await complete_setup_3ds(sandbox, seti, started.client_secret)

    # when it is confirmed
    done, _ = await confirm_payment_method(services, admin_of(account), pm.id)

    # then it is active, the default, and attached to the account's customer (chargeable)
    assert done.status is PaymentMethodStatus.ACTIVE and done.is_default
    await account.refresh_from_db()
    at_provider = await provider.inner.retrieve_setup_intent(seti)
    assert at_provider.card is not None
    assert at_provider.card.customer_id == account.provider_customer_id


async def test_setup_first_same_seti_twice_returns_the_same_row(services, sandbox, provider):
    account = await make_account()
    started = await start_setup(services, admin_of(account), account.id)
    seti = await confirm_card_setup(sandbox, started.client_secret, OK_CARD)
    first, _ = await add_payment_method(services, admin_of(account), account.id, seti)
    provider.reset()

    second, _ = await add_payment_method(services, admin_of(account), account.id, seti)

    assert second.id == first.id
    assert await PaymentMethod.filter(account_id=account.id).count() == 1
    assert provider.calls == []


async def test_seti_of_another_accounts_customer_is_not_found(services, sandbox, provider):
    mine = await make_account("me@example.test")
    theirs = await make_account("them@example.test")
    await start_setup(services, admin_of(mine), mine.id)  # my customer exists
    started = await start_setup(services, admin_of(theirs), theirs.id)
    their_seti = await confirm_card_setup(sandbox, started.client_secret, OK_CARD)

    async with refused(provider, NotFound, provider_calls=True) as info:
        await add_payment_method(services, admin_of(mine), mine.id, their_seti)

    assert info.value.field == "providerToken"
    assert provider.names() == ["retrieve_setup_intent"]  # looked at, never attached


# -- refusals -----------------------------------------------------------------------------


async def test_refused_card_is_declined_and_not_stored(services, sandbox, provider):
    account = await make_account()
    await start_setup(services, admin_of(account), account.id)  # customer exists already
    token = await create_card_payment_method(sandbox, REFUSED_CARD)

    async with refused(provider, CardDeclined, provider_calls=True) as info:
        await add_payment_method(services, admin_of(account), account.id, token)

    assert info.value.decline_code == "card_declined"
    assert provider.names() == ["setup_payment_method"]


@pytest.mark.parametrize(
    "token", ["", "tok_visa", "pm_", "pm_!!!!", "seti_ab", "pm_" + "x" * 200, "4242424242424242"]
)
async def test_malformed_token_is_invalid_input_without_a_provider_call(services, provider, token):
    account = await make_account()

    async with refused(provider, InvalidInput) as info:
        await add_payment_method(services, admin_of(account), account.id, token)

    assert info.value.field == "providerToken"


async def test_unknown_token_is_invalid_input_and_nothing_stored(services, sandbox, provider):
    account = await make_account()
    await start_setup(services, admin_of(account), account.id)

    async with refused(provider, InvalidInput, provider_calls=True) as info:
        await add_payment_method(services, admin_of(account), account.id, "pm_doesnotexist1234")

    assert info.value.field == "providerToken"


async def test_billing_address_is_cleaned_and_stored(services, sandbox):
    account = await make_account()
    address = Address(line1=" 1 Main St ", city="Berlin", postal_code="10115", country="de")

    pm, _ = await _add_token(services, sandbox, account, billing_address=address)

    row = await PaymentMethod.get(id=pm.id)
    assert (row.address_line1, row.address_city, row.address_country) == (
        "1 Main St",
        "Berlin",
        "DE",
    )


@pytest.mark.parametrize(
    ("address", "field"),
    [
        (Address(country="XX"), "billingAddress.country"),
        (Address(country="Germany"), "billingAddress.country"),
        (Address(line1="x" * 201, country="DE"), "billingAddress.line1"),
        (Address(postal_code="1" * 21), "billingAddress.postalCode"),
    ],
)
async def test_bad_billing_address_is_invalid_input_and_nothing_stored(
    services, sandbox, provider, address, field
):
    account = await make_account()
    token = await create_card_payment_method(sandbox, OK_CARD)

    async with refused(provider, InvalidInput) as info:
        await add_payment_method(
            services, admin_of(account), account.id, token, billing_address=address
        )

    assert info.value.field == field
