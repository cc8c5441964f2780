"""Adding, confirming, choosing and deleting cards through the GraphQL mutations."""

from __future__ import annotations

import httpx
import pytest

from gateway.sandbox import Sandbox
from models import Account, PaymentMethod, PaymentMethodStatus, PlanTier
from services.context import ServiceContext
from services.provider.recording import RecordingProvider
from tests.factories import (
    OK_CARD,
    REFUSED_CARD,
    THREE_DS_CARD,
    add_card,
    api_key,
    gql,
    make_account,
    subscribe,
)
from tests.graphql.helpers import db_state, gid
from tests.sandbox_browser import (
    complete_setup_3ds,
    confirm_card_setup,
    create_card_payment_method,
)

_ERROR = "... on UserError { code message field }"
_CARD = "id last4 brand status isDefault"

START_SETUP = f"""
mutation Start($accountId: ID) {{
  startPaymentMethodSetup(input: {{accountId: $accountId}}) {{
    __typename
    ... on StartPaymentMethodSetupSuccess {{ clientSecret setupIntentId publishableKey }}
    {_ERROR}
  }}
}}
"""

ADD = f"""
mutation Add($token: String!, $makeDefault: Boolean) {{
  addPaymentMethod(input: {{providerToken: $token, makeDefault: $makeDefault}}) {{
    __typename
    ... on AddPaymentMethodSuccess {{
      paymentMethod {{ {_CARD} }}
      nextAction {{ type clientSecret }}
      account {{ defaultPaymentMethod {{ id }} }}
    }}
    ... on CardDeclinedError {{ declineCode }}
    {_ERROR}
  }}
}}
"""

CONFIRM = f"""
mutation Confirm($id: ID!) {{
  confirmPaymentMethod(input: {{paymentMethodId: $id}}) {{
    __typename
    ... on ConfirmPaymentMethodSuccess {{
      paymentMethod {{ {_CARD} }}
      nextAction {{ clientSecret }}
    }}
    {_ERROR}
  }}
}}
"""

MAKE_DEFAULT = f"""
mutation MakeDefault($id: ID!) {{
  makeDefault(input: {{paymentMethodId: $id}}) {{
    __typename
    ... on MakeDefaultSuccess {{
      paymentMethod {{ id isDefault }}
      account {{ defaultPaymentMethod {{ id }} paymentMethods {{ id isDefault }} }}
    }}
    {_ERROR}
  }}
}}
"""

DELETE = f"""
mutation Delete($id: ID!) {{
  deletePaymentMethod(input: {{paymentMethodId: $id}}) {{
    __typename
    ... on DeletePaymentMethodSuccess {{
      deletedPaymentMethodId
      account {{ paymentMethods {{ id isDefault }} defaultPaymentMethod {{ id }} }}
    }}
    {_ERROR}
  }}
}}
"""

CARDS = """
query { viewer { account { paymentMethods { id last4 isDefault status } } } }
"""


async def _admin(tier: PlanTier = PlanTier.PLUS) -> tuple[Account, str]:
    account = await make_account(tier=tier)
    if tier is not PlanTier.FREE:
        await subscribe(account)
    return account, await api_key(account)


def _intent_id(client_secret: str) -> str:
    return client_secret.split("_secret_", 1)[0]


async def test_setup_first_flow_stores_the_card(
    client: httpx.AsyncClient, sandbox: Sandbox, provider: RecordingProvider
) -> None:
    # given an account without cards
    _, key = await _admin()

    # when the page starts a setup, the browser confirms it, and the page adds the setup
    started = (await gql(client, START_SETUP, key=key))["data"]["startPaymentMethodSetup"]
    assert started["__typename"] == "StartPaymentMethodSetupSuccess"
    assert started["clientSecret"].startswith(started["setupIntentId"] + "_secret_")
    assert started["setupIntentId"].startswith("seti_")
    assert started["publishableKey"] == sandbox.publishable_key
    seti = await confirm_card_setup(sandbox, started["clientSecret"], OK_CARD)
    body = await gql(client, ADD, {"token": seti}, key=key)

    # then the card is stored, active, and the default (it is the first)
    result = body["data"]["addPaymentMethod"]
    assert result["__typename"] == "AddPaymentMethodSuccess", result
    card = result["paymentMethod"]
    assert (card["last4"], card["brand"], card["status"], card["isDefault"]) == (
        "4242",
        "visa",
        "ACTIVE",
        True,
    )
    assert result["nextAction"] is None
    assert result["account"]["defaultPaymentMethod"] == {"id": card["id"]}
    assert "create_setup_intent" in provider.names()
    assert "retrieve_setup_intent" in provider.names()


async def test_setup_first_with_3ds_done_in_browser(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    _, key = await _admin()
    started = (await gql(client, START_SETUP, key=key))["data"]["startPaymentMethodSetup"]

    seti = await confirm_card_setup(sandbox, started["clientSecret"], THREE_DS_CARD)
    result = (await gql(client, ADD, {"token": seti}, key=key))["data"]["addPaymentMethod"]

    assert result["paymentMethod"]["status"] == "ACTIVE"
    assert result["paymentMethod"]["last4"] == "3184"


async def test_token_first_3ds_card_requires_action_then_confirms(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    # given a pm_ made in the browser from a card that needs 3-D Secure
    account, key = await _admin()
    token = await create_card_payment_method(sandbox, THREE_DS_CARD)

    # when it is added
    added = (await gql(client, ADD, {"token": token}, key=key))["data"]["addPaymentMethod"]

    # then it waits for the challenge and is not the default yet
    assert added["__typename"] == "AddPaymentMethodSuccess", added
    card = added["paymentMethod"]
    assert (card["status"], card["isDefault"]) == ("REQUIRES_ACTION", False)
    secret = added["nextAction"]["clientSecret"]
    assert added["nextAction"]["type"] == "use_stripe_sdk"
    assert secret.startswith("seti_")
    assert added["account"]["defaultPaymentMethod"] is None

    # when confirmed before the challenge is done, it still waits
    early = (await gql(client, CONFIRM, {"id": card["id"]}, key=key))["data"]
    assert early["confirmPaymentMethod"]["paymentMethod"]["status"] == "REQUIRES_ACTION"
    assert early["confirmPaymentMethod"]["nextAction"] == {"clientSecret": secret}

    # when the browser finishes the challenge and the page confirms
    await complete_setup_3ds(sandbox, _intent_id(secret), secret)
    confirmed = (await gql(client, CONFIRM, {"id": card["id"]}, key=key))["data"]

    # then the card is active and, being the only one, the default
    result = confirmed["confirmPaymentMethod"]
    assert result["__typename"] == "ConfirmPaymentMethodSuccess"
    assert (result["paymentMethod"]["status"], result["paymentMethod"]["isDefault"]) == (
        "ACTIVE",
        True,
    )
    assert result["nextAction"] is None
    assert await PaymentMethod.filter(account_id=account.id, is_default=True).count() == 1


async def test_card_refused_on_add_is_card_declined(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    account, key = await _admin()
    token = await create_card_payment_method(sandbox, REFUSED_CARD)

    result = (await gql(client, ADD, {"token": token}, key=key))["data"]["addPaymentMethod"]

    assert result["__typename"] == "CardDeclinedError"
    assert result["code"] == "CARD_DECLINED"  # not a failed payment: nothing was charged
    assert result["declineCode"]
    assert await PaymentMethod.filter(account_id=account.id).count() == 0


async def test_malformed_token_is_refused_before_the_provider(
    client: httpx.AsyncClient, db: str, provider: RecordingProvider
) -> None:
    _, key = await _admin()
    before = await db_state()

    body = await gql(client, ADD, {"token": "4242424242424242"}, key=key)

    result = body["data"]["addPaymentMethod"]
    assert result["__typename"] == "InvalidInputError"
    assert (result["code"], result["field"]) == ("INVALID_INPUT", "providerToken")
    assert provider.calls == []
    assert await db_state() == before


async def test_make_default_moves_the_one_default(
    client: httpx.AsyncClient, sandbox: Sandbox, services: ServiceContext
) -> None:
    # given two cards, the first the default
    account, key = await _admin()
    first = await add_card(services, sandbox, account)
    second = await add_card(services, sandbox, account)

    # when the second is made the default
    body = await gql(client, MAKE_DEFAULT, {"id": gid("PaymentMethod", second.id)}, key=key)

    # then it is the only default
    result = body["data"]["makeDefault"]
    assert result["__typename"] == "MakeDefaultSuccess"
    assert result["paymentMethod"] == {"id": gid("PaymentMethod", second.id), "isDefault": True}
    assert result["account"]["defaultPaymentMethod"] == {"id": gid("PaymentMethod", second.id)}
    assert result["account"]["paymentMethods"] == [
        {"id": gid("PaymentMethod", first.id), "isDefault": False},
        {"id": gid("PaymentMethod", second.id), "isDefault": True},
    ]


async def test_make_default_refuses_a_card_awaiting_3ds(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    account, key = await _admin()
    await add_card(services, sandbox, account)
    pending = await add_card(services, sandbox, account, THREE_DS_CARD)
    provider.reset()
    before = await db_state()

    body = await gql(client, MAKE_DEFAULT, {"id": gid("PaymentMethod", pending.id)}, key=key)

    assert body["data"]["makeDefault"]["__typename"] == "PaymentMethodNotUsableError"
    assert body["data"]["makeDefault"]["code"] == "PAYMENT_METHOD_NOT_USABLE"
    assert provider.calls == []
    assert await db_state() == before


async def test_delete_a_spare_card(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    account, key = await _admin()
    default = await add_card(services, sandbox, account)
    spare = await add_card(services, sandbox, account)
    provider.reset()

    body = await gql(client, DELETE, {"id": gid("PaymentMethod", spare.id)}, key=key)

    result = body["data"]["deletePaymentMethod"]
    assert result["__typename"] == "DeletePaymentMethodSuccess"
    assert result["deletedPaymentMethodId"] == gid("PaymentMethod", spare.id)
    assert result["account"]["paymentMethods"] == [
        {"id": gid("PaymentMethod", default.id), "isDefault": True}
    ]
    assert provider.calls == [("detach_payment_method", {"payment_method_id": spare.provider_id})]
    assert (await PaymentMethod.get(id=spare.id)).status is PaymentMethodStatus.DELETED


async def test_default_card_of_a_paid_plan_cannot_be_deleted(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    # given a PLUS account with a default and a spare card
    account, key = await _admin()
    default = await add_card(services, sandbox, account)
    await add_card(services, sandbox, account)
    provider.reset()
    before = await db_state()

    # when the default is deleted
    body = await gql(client, DELETE, {"id": gid("PaymentMethod", default.id)}, key=key)

    # then it is refused, and nothing changed
    assert "errors" not in body
    assert body["data"]["deletePaymentMethod"] == {
        "__typename": "DefaultPaymentMethodRequiredError",
        "code": "DEFAULT_PAYMENT_METHOD_REQUIRED",
        "message": "The default card cannot be deleted; make another card the default first.",
        "field": "paymentMethodId",
    }
    assert provider.calls == []
    assert await db_state() == before


async def test_free_account_may_delete_its_default_card(
    client: httpx.AsyncClient, sandbox: Sandbox, services: ServiceContext
) -> None:
    account, key = await _admin(PlanTier.FREE)
    card = await add_card(services, sandbox, account)

    body = await gql(client, DELETE, {"id": gid("PaymentMethod", card.id)}, key=key)

    result = body["data"]["deletePaymentMethod"]
    assert result["__typename"] == "DeletePaymentMethodSuccess"
    assert result["account"] == {"paymentMethods": [], "defaultPaymentMethod": None}


@pytest.mark.parametrize(
    ("bad_id", "typename", "code"),
    [
        ("not-an-id", "InvalidInputError", "INVALID_INPUT"),
        ("", "InvalidInputError", "INVALID_INPUT"),
        (gid("Invoice", 1), "NotFoundError", "NOT_FOUND"),
        (gid("PaymentMethod", 999_999), "NotFoundError", "NOT_FOUND"),
        (gid("PaymentMethod", 2**63), "InvalidInputError", "INVALID_INPUT"),
        (gid("PaymentMethod", 2**31), "InvalidInputError", "INVALID_INPUT"),
        (gid("PaymentMethod", -1), "InvalidInputError", "INVALID_INPUT"),
    ],
)
@pytest.mark.parametrize(
    ("name", "mutation"),
    [
        ("makeDefault", MAKE_DEFAULT),
        ("deletePaymentMethod", DELETE),
        ("confirmPaymentMethod", CONFIRM),
    ],
)
async def test_bad_payment_method_id_is_an_error_member(
    client: httpx.AsyncClient,
    db: str,
    provider: RecordingProvider,
    bad_id: str,
    typename: str,
    code: str,
    name: str,
    mutation: str,
) -> None:
    _, key = await _admin()

    body = await gql(client, mutation, {"id": bad_id}, key=key)

    assert "errors" not in body, body
    result = body["data"][name]
    assert (result["__typename"], result["code"], result["field"]) == (
        typename,
        code,
        "paymentMethodId",
    )
    assert provider.calls == []
