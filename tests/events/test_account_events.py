"""`Account.events` over GraphQL: the log paged oldest first with cursors, filtered by
type, each event with the object it is about (read within its own account)."""

from __future__ import annotations

import httpx
import pytest
from tortoise.transactions import in_transaction

from models import BillingEventType, Meter, Notification, NotificationKind
from services.events import log
from tests.conftest import NOW
from tests.factories import api_key, gql, make_account
from tests.graphql.helpers import gid

pytestmark = pytest.mark.usefixtures("db")

EVENTS = """query($id: ID!, $after: String, $types: [BillingEventType!]) {
  account(id: $id) {
    eventsCursor
    events(first: 2, after: $after, types: $types) {
      edges { cursor node { id type occurredAt account { id } notification { kind threshold } } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}"""


async def test_events_page_in_log_order_with_their_objects(client: httpx.AsyncClient) -> None:
    alice = await make_account()
    meter = await Meter.create(code="credits", name="Credits", unit="credit")
    note = await Notification.create(
        account_id=alice.id,
        kind=NotificationKind.USAGE_THRESHOLD,
        meter=meter,
        period_start=NOW,
        threshold=80,
        message="80% used",
        created_at=NOW,
    )
    written = []
    for kind, extra in [
        (BillingEventType.BILLING_INFO_UPDATED, {}),
        (BillingEventType.USAGE_THRESHOLD_REACHED, {"notification_id": note.id}),
        (BillingEventType.BILLING_INFO_UPDATED, {}),
    ]:
        async with in_transaction():
            written.append(await log.append(kind, account_id=alice.id, now=NOW, **extra))
    key = await api_key(alice)
    account_id = gid("Account", alice.id)

    first = (await gql(client, EVENTS, {"id": account_id}, key=key))["data"]["account"]
    page = first["events"]
    assert [e["node"]["id"] for e in page["edges"]] == [gid("BillingEvent", i) for i in written[:2]]
    assert page["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "endCursor": page["edges"][-1]["cursor"],
    }
    assert page["edges"][1]["node"]["notification"] == {"kind": "USAGE_THRESHOLD", "threshold": 80}
    from models import BillingEvent

    newest = await BillingEvent.get(id=written[-1])
    assert first["eventsCursor"] == log.encode_cursor(log.Position.of(newest))

    rest = await gql(
        client, EVENTS, {"id": account_id, "after": page["pageInfo"]["endCursor"]}, key=key
    )
    assert [e["node"]["id"] for e in rest["data"]["account"]["events"]["edges"]] == [
        gid("BillingEvent", written[2])
    ]
    only = await gql(
        client, EVENTS, {"id": account_id, "types": ["USAGE_THRESHOLD_REACHED"]}, key=key
    )
    assert len(only["data"]["account"]["events"]["edges"]) == 1


async def test_a_malformed_cursor_is_invalid_input(client: httpx.AsyncClient) -> None:
    alice = await make_account()
    body = await gql(
        client,
        EVENTS,
        {"id": gid("Account", alice.id), "after": "not-a-cursor"},
        key=await api_key(alice),
    )
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
