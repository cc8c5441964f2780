"""Cards on file: the default-card rules, deletion under the tier rules, and who may ask."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Account, PaymentMethod, PaymentMethodStatus, PlanTier, SubscriptionStatus
from services import card_setup
from services.errors import (
    DefaultPaymentMethodRequired,
    NotFound,
    PaymentMethodNotUsable,
    PermissionDenied,
    SelfServiceUnavailable,
)
from services.payment_methods import delete_payment_method, make_default
from tests.factories import (
    OK_CARD,
    THREE_DS_CARD,
    add_card,
    admin_of,
    make_account,
    subscribe,
    viewer_of,
)
from tests.sandbox_browser import create_card_payment_method
from tests.services.helpers import defaults_of, refused


async def _reload(pm: PaymentMethod) -> PaymentMethod:
    return await PaymentMethod.get(id=pm.id)


# -- the default card -------------------------------------------------------------------


async def test_first_card_becomes_default(services, sandbox):
    account = await make_account()

    pm = await add_card(services, sandbox, account)

    assert pm.status is PaymentMethodStatus.ACTIVE
    assert pm.is_default
    assert await defaults_of(account) == [pm.id]


async def test_second_card_is_not_default_unless_asked(services, sandbox):
    account = await make_account()
    first = await add_card(services, sandbox, account)

    second = await add_card(services, sandbox, account)

    assert not second.is_default
    assert await defaults_of(account) == [first.id]


async def test_second_card_with_make_default_takes_over(services, sandbox):
    account = await make_account()
    first = await add_card(services, sandbox, account)

    second = await add_card(services, sandbox, account, make_default=True)

    assert second.is_default
    assert not (await _reload(first)).is_default
    assert await defaults_of(account) == [second.id]


async def test_make_default_on_own_card(services, sandbox, provider):
    account = await make_account()
    first = await add_card(services, sandbox, account)
    second = await add_card(services, sandbox, account)
    provider.reset()

    result = await make_default(services, admin_of(account), second.id)

    assert result.id == account.id
    assert await defaults_of(account) == [second.id]
    assert not (await _reload(first)).is_default
    assert provider.calls == []  # a local choice: the provider is not involved


async def test_make_default_twice_keeps_one_default(services, sandbox):
    account = await make_account()
    await add_card(services, sandbox, account)
    second = await add_card(services, sandbox, account)

    await make_default(services, admin_of(account), second.id)
    await make_default(services, admin_of(account), second.id)

    assert await defaults_of(account) == [second.id]


async def test_make_default_on_another_accounts_card_is_not_found(services, sandbox, provider):
    mine = await make_account("me@example.test")
    theirs = await make_account("them@example.test")
    await add_card(services, sandbox, mine)
    their_card = await add_card(services, sandbox, theirs)
    await add_card(services, sandbox, theirs, make_default=True)

    async with refused(provider, NotFound) as info:
        await make_default(services, admin_of(mine), their_card.id)

    assert info.value.field == "paymentMethodId"


async def test_make_default_on_unknown_id_is_the_same_not_found(services, sandbox, provider):
    account = await make_account()
    await add_card(services, sandbox, account)

    async with refused(provider, NotFound) as info:
        await make_default(services, admin_of(account), 999_999)

    assert info.value.field == "paymentMethodId"


async def test_make_default_on_a_card_waiting_for_3ds_is_refused(services, sandbox, provider):
    account = await make_account()
    await add_card(services, sandbox, account)
    pending = await add_card(services, sandbox, account, THREE_DS_CARD)
    assert pending.status is PaymentMethodStatus.REQUIRES_ACTION

    async with refused(provider, PaymentMethodNotUsable):
        await make_default(services, admin_of(account), pending.id)


async def test_make_default_on_an_expired_card_is_refused(services, sandbox, provider, clock):
    account = await make_account()
    await add_card(services, sandbox, account)
    old = await add_card(services, sandbox, account)
    await PaymentMethod.filter(id=old.id).update(exp_year=clock.now().year - 1)

    async with refused(provider, PaymentMethodNotUsable):
        await make_default(services, admin_of(account), old.id)


async def test_make_default_on_a_deleted_card_is_not_found(services, sandbox, provider):
    account = await make_account()
    await add_card(services, sandbox, account)
    gone = await add_card(services, sandbox, account)
    await delete_payment_method(services, admin_of(account), gone.id)

    async with refused(provider, NotFound):
        await make_default(services, admin_of(account), gone.id)


# -- delete -------------------------------------------------------------------------------


async def test_delete_a_non_default_card(services, sandbox, provider, clock):
    account = await make_account()
    await subscribe(account)
    default = await add_card(services, sandbox, account)
    spare = await add_card(services, sandbox, account)
    provider.reset()

    deleted_id, _ = await delete_payment_method(services, admin_of(account), spare.id)

    assert deleted_id == spare.id
    row = await _reload(spare)
    assert row.status is PaymentMethodStatus.DELETED
    assert row.deleted_at == clock.now()
    assert not row.is_default
    assert await defaults_of(account) == [default.id]
    assert provider.names() == ["detach_payment_method"]
    assert provider.calls_to("detach_payment_method") == [{"payment_method_id": spare.provider_id}]


async def test_delete_the_default_card_on_plus_is_refused(services, sandbox, provider):
    account = await make_account(tier=PlanTier.PLUS)
    await subscribe(account)
    default = await add_card(services, sandbox, account)
    await add_card(services, sandbox, account)

    async with refused(provider, DefaultPaymentMethodRequired) as info:
        await delete_payment_method(services, admin_of(account), default.id)

    assert info.value.field == "paymentMethodId"


@pytest.mark.parametrize("status", [SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE])
async def test_delete_the_last_card_on_a_paid_plan_is_refused(services, sandbox, provider, status):
    account = await make_account(tier=PlanTier.PLUS)
    await subscribe(account, status=status)
    only = await add_card(services, sandbox, account)

    async with refused(provider, DefaultPaymentMethodRequired):
        await delete_payment_method(services, admin_of(account), only.id)


async def test_delete_the_last_usable_card_on_a_paid_plan_is_refused(
    services, sandbox, provider, clock
):
    # given a paid plan whose default card has expired and one good spare card
    account = await make_account(tier=PlanTier.PLUS)
    await subscribe(account)
    expired = await add_card(services, sandbox, account)
    spare = await add_card(services, sandbox, account)
    await PaymentMethod.filter(id=expired.id).update(exp_year=clock.now().year - 1)

    # when the spare (the only card that can still pay) is deleted, then it is refused
    async with refused(provider, DefaultPaymentMethodRequired):
        await delete_payment_method(services, admin_of(account), spare.id)


async def test_free_tier_deletes_its_default_and_newest_other_card_takes_over(
    services, sandbox, provider, clock
):
    account = await make_account(tier=PlanTier.FREE)
    default = await add_card(services, sandbox, account)
    clock.advance(timedelta(minutes=1))
    await add_card(services, sandbox, account)
    clock.advance(timedelta(minutes=1))
    newest_active = await add_card(services, sandbox, account)
    clock.advance(timedelta(minutes=1))
    newest_pending = await add_card(services, sandbox, account, THREE_DS_CARD)  # not usable
    provider.reset()

    await delete_payment_method(services, admin_of(account), default.id)

    assert (await _reload(default)).status is PaymentMethodStatus.DELETED
    assert await defaults_of(account) == [newest_active.id]
    assert not (await _reload(newest_pending)).is_default
    assert provider.names() == ["detach_payment_method"]


async def test_free_tier_deletes_its_only_card(services, sandbox, provider):
    account = await make_account(tier=PlanTier.FREE)
    only = await add_card(services, sandbox, account)
    provider.reset()

    await delete_payment_method(services, admin_of(account), only.id)

    live = await PaymentMethod.filter(account_id=account.id).exclude(
        status=PaymentMethodStatus.DELETED
    )
    assert live == []
    assert await defaults_of(account) == []
    assert provider.calls_to("detach_payment_method") == [{"payment_method_id": only.provider_id}]


async def test_delete_another_accounts_card_is_not_found(services, sandbox, provider):
    mine = await make_account("me@example.test", tier=PlanTier.FREE)
    theirs = await make_account("them@example.test", tier=PlanTier.FREE)
    await add_card(services, sandbox, mine)
    their_card = await add_card(services, sandbox, theirs)

    async with refused(provider, NotFound):
        await delete_payment_method(services, admin_of(mine), their_card.id)


async def test_delete_twice_is_not_found_the_second_time(services, sandbox, provider):
    account = await make_account(tier=PlanTier.FREE)
    card = await add_card(services, sandbox, account)
    await delete_payment_method(services, admin_of(account), card.id)

    async with refused(provider, NotFound):
        await delete_payment_method(services, admin_of(account), card.id)


# -- who may change cards -----------------------------------------------------------------


async def _account_with_two_cards(
    services, sandbox
) -> tuple[Account, PaymentMethod, PaymentMethod]:
    account = await make_account(tier=PlanTier.PLUS)
    default = await add_card(services, sandbox, account)
    spare = await add_card(services, sandbox, account)
    return account, default, spare


def _card_mutations(services, principal, account, spare, token):
    return {
        "make_default": lambda: make_default(services, principal, spare.id),
        "delete": lambda: delete_payment_method(services, principal, spare.id),
        "add": lambda: card_setup.add_payment_method(services, principal, account.id, token),
        "start_setup": lambda: card_setup.start_setup(services, principal, account.id),
        "confirm": lambda: card_setup.confirm_payment_method(services, principal, spare.id),
    }


@pytest.mark.parametrize("mutation", ["make_default", "delete", "add", "start_setup", "confirm"])
async def test_enterprise_has_no_self_service(services, sandbox, provider, mutation):
    account, _, spare = await _account_with_two_cards(services, sandbox)
    await Account.filter(id=account.id).update(tier=PlanTier.ENTERPRISE)
    token = await create_card_payment_method(sandbox, OK_CARD)
    call = _card_mutations(services, admin_of(account), account, spare, token)[mutation]

    async with refused(provider, SelfServiceUnavailable) as info:
        await call()

    assert "sales representative" in info.value.message


@pytest.mark.parametrize("mutation", ["make_default", "delete", "add", "start_setup", "confirm"])
async def test_viewer_may_not_change_cards(services, sandbox, provider, mutation):
    account, _, spare = await _account_with_two_cards(services, sandbox)
    token = await create_card_payment_method(sandbox, OK_CARD)
    call = _card_mutations(services, viewer_of(account), account, spare, token)[mutation]

    async with refused(provider, PermissionDenied):
        await call()


async def test_viewer_of_another_account_gets_not_found_not_permission_denied(
    services, sandbox, provider
):
    _, _, spare = await _account_with_two_cards(services, sandbox)
    stranger = await make_account("stranger@example.test")

    async with refused(provider, NotFound):
        await make_default(services, viewer_of(stranger), spare.id)
