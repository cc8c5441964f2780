"""Card setups that must not end with a stored card: failed 3-D Secure, foreign setups."""

from __future__ import annotations

import httpx

from gateway.sandbox import Sandbox
from models import PaymentMethod, PaymentMethodStatus
from services import card_setup
from services.context import ServiceContext
from services.provider.recording import RecordingProvider
from tests.factories import OK_CARD, THREE_DS_CARD, admin_of, api_key, gql, make_account, subscribe
from tests.graphql.helpers import db_state
from tests.graphql.test_payment_method_mutations import ADD, CARDS, CONFIRM
from tests.sandbox_browser import complete_setup_3ds, create_card_payment_method


async def test_failed_setup_challenge_removes_the_card(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    # given a card added token-first that waits for 3-D Secure
    account = await make_account()
    await subscribe(account)
    key = await api_key(account)
    token = await create_card_payment_method(sandbox, THREE_DS_CARD)
    added = (await gql(client, ADD, {"token": token}, key=key))["data"]["addPaymentMethod"]
    secret = added["nextAction"]["clientSecret"]

    # when the cardholder fails the challenge and the page confirms
    await complete_setup_3ds(sandbox, secret.split("_secret_")[0], secret, success=False)
    body = await gql(client, CONFIRM, {"id": added["paymentMethod"]["id"]}, key=key)

    # then the card is refused and gone from the page
    result = body["data"]["confirmPaymentMethod"]
    assert result["__typename"] == "CardDeclinedError", result
    assert result["code"] == "CARD_DECLINED"
    cards = (await gql(client, CARDS, key=key))["data"]["viewer"]["account"]["paymentMethods"]
    assert cards == []
    assert (
        await PaymentMethod.filter(
            account_id=account.id, status=PaymentMethodStatus.DELETED
        ).count()
        == 1
    )


async def test_setup_of_another_account_is_not_found(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    # given Bob started a setup, and Alice learned its id
    bob = await make_account("bob@example.test", name="Bob")
    started = await card_setup.start_setup(services, admin_of(bob), bob.id)
    alice = await make_account("alice@example.test")
    key = await api_key(alice)
    await card_setup.start_setup(services, admin_of(alice), alice.id)  # Alice has a customer
    before = await db_state()

    # when Alice adds Bob's setup as her card
    body = await gql(client, ADD, {"token": started.setup_intent_id}, key=key)

    # then it does not exist for her, and nothing was attached
    result = body["data"]["addPaymentMethod"]
    assert (result["__typename"], result["field"]) == ("NotFoundError", "providerToken")
    assert "attach_payment_method" not in provider.names()
    assert await db_state() == before


async def test_same_token_twice_stores_one_card(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    account = await make_account()
    key = await api_key(account)
    token = await create_card_payment_method(sandbox, OK_CARD)

    first = (await gql(client, ADD, {"token": token}, key=key))["data"]["addPaymentMethod"]
    second = (await gql(client, ADD, {"token": token}, key=key))["data"]["addPaymentMethod"]

    assert first["paymentMethod"]["id"] == second["paymentMethod"]["id"]
    assert await PaymentMethod.filter(account_id=account.id).count() == 1
