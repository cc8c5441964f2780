"""`types: []` is refused everywhere an event-type filter is taken: read as "every type"
it would hand a client that meant "none" (an empty selection) everything. Omitting
`types` (or null) is how to ask for every type."""

from __future__ import annotations

import json

import httpx
import pytest

from models import WebhookEndpoint
from services.errors import InvalidInput
from services.events import endpoints, log
from services.events.targets import TargetPolicy
from tests.conftest import NOW
from tests.events.conftest import SUBSCRIPTION, Gateway
from tests.factories import admin_of, api_key, gql, make_account
from tests.graphql.helpers import db_state, gid

pytestmark = pytest.mark.usefixtures("db")

MESSAGE = "Give at least one type, or omit types for all."
EVENTS = """query($id: ID!, $types: [BillingEventType!]) {
  account(id: $id) { events(first: 5, types: $types) { edges { node { type } } } }
}"""
CREATE = """mutation($url: String!, $types: [BillingEventType!]) {
  createWebhookEndpoint(input: {url: $url, types: $types}) {
    __typename ... on UserError { code message field }
  }
}"""


async def test_account_events_with_an_empty_type_list_is_invalid_input(
    client: httpx.AsyncClient,
) -> None:
    alice = await make_account()
    key = await api_key(alice)
    variables = {"id": gid("Account", alice.id), "types": []}

    body = await gql(client, EVENTS, variables, key=key)

    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["field"] == "types"
    assert error["message"] == MESSAGE
    # while leaving types out (or null) still reads every type
    for omitted in ({"id": variables["id"]}, {**variables, "types": None}):
        ok = await gql(client, EVENTS, omitted, key=key)
        assert "errors" not in ok, ok


async def test_the_log_service_refuses_an_empty_type_list() -> None:
    alice = await make_account()
    with pytest.raises(InvalidInput) as info:
        await log.list_events(alice.id, types=[])
    assert (info.value.field, info.value.message) == ("types", MESSAGE)


async def test_a_subscription_with_an_empty_type_list_is_refused_before_streaming(
    gateway: Gateway,
) -> None:
    alice = await make_account()
    key = await api_key(alice)
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        response = await http.post(
            "/graphql",
            json={"query": SUBSCRIPTION, "variables": {"types": []}},
            headers={"Accept": "text/event-stream", "Authorization": f"Bearer {key}"},
        )
    payloads = [
        json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data: {")
    ]

    assert payloads, response.text
    (error,) = payloads[0]["errors"]
    assert (error["extensions"]["code"], error["message"]) == ("INVALID_INPUT", MESSAGE)
    assert not [p for p in payloads if p.get("data")]


async def test_a_webhook_endpoint_with_an_empty_type_list_is_refused_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    alice = await make_account()
    key = await api_key(alice)
    before = await db_state()

    body = await gql(client, CREATE, {"url": "https://example.com/hooks", "types": []}, key=key)

    assert body["data"]["createWebhookEndpoint"] == {
        "__typename": "InvalidInputError",
        "code": "INVALID_INPUT",
        "message": MESSAGE,
        "field": "types",
    }
    assert await WebhookEndpoint.all().count() == 0
    assert await db_state() == before


async def test_the_endpoint_service_refuses_an_empty_type_list() -> None:
    alice = await make_account()
    with pytest.raises(InvalidInput) as info:
        await endpoints.create_endpoint(
            admin_of(alice),
            url="https://example.com/hooks",
            types=(),
            account_id=None,
            policy=TargetPolicy(require_https=True),
            now=NOW,
        )
    assert info.value.field == "types"
    assert await WebhookEndpoint.all().count() == 0
