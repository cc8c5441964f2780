"""`node(id)` finds the caller's own events and webhook endpoints, and nobody else's."""

from __future__ import annotations

import httpx
import pytest
from tortoise.transactions import in_transaction

from models import ApiKeyRole, BillingEventType
from services.events import endpoints, log
from services.events.targets import TargetPolicy
from tests.conftest import NOW
from tests.factories import admin_of, api_key, gql, make_account
from tests.graphql.helpers import gid

pytestmark = pytest.mark.usefixtures("db")
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


async def test_node_reads_own_events_and_endpoints_only(client: httpx.AsyncClient) -> None:
    alice = await make_account()
    mallory = await make_account("mallory@example.test", name="Mallory")
    async with in_transaction():
        event_id = await log.append(
            BillingEventType.BILLING_INFO_UPDATED, account_id=alice.id, now=NOW
        )
    endpoint, _ = await endpoints.create_endpoint(
        admin_of(alice),
        url="https://93.184.215.14/hooks",
        types=None,
        account_id=None,
        policy=TargetPolicy(),
        now=NOW,
    )
    ids = [gid("BillingEvent", event_id), gid("WebhookEndpoint", endpoint.id)]

    roles = (ApiKeyRole.ADMIN, ApiKeyRole.VIEWER)
    keys = [(await api_key(alice, r), await api_key(mallory, r)) for r in roles]
    for node_id in ids:
        for own_key, their_key in keys:
            own = await gql(client, NODE, {"id": node_id}, key=own_key)
            assert own["data"]["node"]["id"] == node_id, own
            theirs = await gql(client, NODE, {"id": node_id}, key=their_key)
            assert theirs == {"data": {"node": None}}, theirs
