"""Who may read and change what: API keys, roles, and scoping to the key's accounts."""

from __future__ import annotations

import httpx
import pytest

from gateway.sandbox import Sandbox
from models import Account, ApiKeyRole, InvoiceStatus, PlanTier
from services.auth import create_partner_key
from services.context import ServiceContext
from services.provider.recording import RecordingProvider
from tests.conftest import NOW
from tests.factories import (
    api_key,
    gql,
    make_account,
    make_invoice,
    subscribe,
)
from tests.graphql.helpers import ALL_MUTATIONS, billed_account, db_state, gid

VIEWER_QUERY = """
query {
  viewer { role account { id name } }
}
"""

ACCOUNT_QUERY = """
query Account($id: ID!) {
  account(id: $id) { id name email tier }
}
"""

NODE_QUERY = """
query Node($id: ID!) {
  node(id: $id) { __typename id ... on Invoice { number } }
}
"""

PARTNER_QUERY = """
query Partner($first: Int, $after: String) {
  viewer {
    role
    account { id }
    accounts(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id name subscription { status } invoices { totalCount } } }
    }
  }
}
"""


async def test_no_key_is_a_top_level_unauthenticated_error(client: httpx.AsyncClient) -> None:
    body = await gql(client, VIEWER_QUERY)

    assert body["data"] is None
    assert len(body["errors"]) == 1
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["path"] == ["viewer"]


@pytest.mark.parametrize("key", ["nonsense", "bgw_abc_def", "bgw_000000000000_forged"])
async def test_bad_key_is_a_top_level_unauthenticated_error(
    client: httpx.AsyncClient, db: str, key: str
) -> None:
    # given an account with a real key (so the table is not empty)
    await api_key(await make_account())

    body = await gql(client, VIEWER_QUERY, key=key)

    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


async def test_non_bearer_scheme_is_unauthenticated(client: httpx.AsyncClient, db: str) -> None:
    key = await api_key(await make_account())

    response = await client.post(
        "/graphql", json={"query": VIEWER_QUERY}, headers={"Authorization": f"Basic {key}"}
    )

    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_mutation_without_key_answers_unauthenticated_error(
    client: httpx.AsyncClient, db: str, provider: RecordingProvider
) -> None:
    # given
    account = await make_account()
    before = await db_state()

    # when
    body = await gql(client, ALL_MUTATIONS["updateBillingInfo"], {"a": gid("Account", account.id)})

    # then
    assert "errors" not in body
    assert body["data"]["updateBillingInfo"] == {
        "__typename": "UnauthenticatedError",
        "code": "UNAUTHENTICATED",
        "message": "Send an API key: Authorization: Bearer <key>.",
        "field": None,
    }
    assert await db_state() == before
    assert provider.calls == []


async def test_viewer_key_reads_its_account(client: httpx.AsyncClient, db: str) -> None:
    account = await make_account()
    key = await api_key(account, ApiKeyRole.VIEWER)

    body = await gql(client, VIEWER_QUERY, key=key)

    assert body == {
        "data": {
            "viewer": {
                "role": "VIEWER",
                "account": {"id": gid("Account", account.id), "name": "Alice Ltd"},
            }
        }
    }


@pytest.mark.parametrize("mutation", sorted(ALL_MUTATIONS))
async def test_viewer_key_is_denied_every_mutation(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
    mutation: str,
) -> None:
    # given an account with everything a mutation could touch, and a viewer key
    account, ids = await billed_account(services, sandbox, provider)
    key = await api_key(account, ApiKeyRole.VIEWER)
    before = await db_state()

    # when
    body = await gql(client, ALL_MUTATIONS[mutation], ids, key=key)

    # then
    assert "errors" not in body, body
    result = body["data"][mutation]
    assert result["__typename"] == "PermissionDeniedError"
    assert result["code"] == "PERMISSION_DENIED"
    assert provider.calls == []
    assert await db_state() == before


async def _partner_setup() -> tuple[list[Account], Account, str]:
    first = await make_account("one@example.test", name="One")
    second = await make_account("two@example.test", name="Two", tier=PlanTier.FREE)
    outsider = await make_account("out@example.test", name="Outsider")
    await subscribe(first)
    await make_invoice(first)
    await make_invoice(second, status=InvoiceStatus.PAID)
    key = await create_partner_key(account_emails=[first.email, second.email], now=NOW)
    return [first, second], outsider, key


async def test_partner_key_reads_several_accounts(client: httpx.AsyncClient, db: str) -> None:
    # given a partner key over two accounts
    _, _, key = await _partner_setup()

    # when
    body = await gql(client, PARTNER_QUERY, key=key)

    # then
    assert "errors" not in body, body
    viewer = body["data"]["viewer"]
    assert viewer["role"] == "PARTNER"
    assert viewer["account"] is None  # several accounts: no single "own" account
    connection = viewer["accounts"]
    assert connection["totalCount"] == 2
    assert [e["node"]["name"] for e in connection["edges"]] == ["One", "Two"]
    assert [e["node"]["subscription"] for e in connection["edges"]] == [
        {"status": "ACTIVE"},
        None,
    ]
    assert [e["node"]["invoices"]["totalCount"] for e in connection["edges"]] == [1, 1]


async def test_partner_key_pages_through_accounts(client: httpx.AsyncClient, db: str) -> None:
    _, _, key = await _partner_setup()

    page1 = (await gql(client, PARTNER_QUERY, {"first": 1}, key=key))["data"]["viewer"]["accounts"]
    after = page1["pageInfo"]["endCursor"]
    page2 = (await gql(client, PARTNER_QUERY, {"first": 1, "after": after}, key=key))["data"][
        "viewer"
    ]["accounts"]

    assert page1["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["name"] for e in page1["edges"]] == ["One"]
    assert page2["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["name"] for e in page2["edges"]] == ["Two"]


async def test_partner_key_reads_account_by_id_but_not_others(
    client: httpx.AsyncClient, db: str
) -> None:
    (first, second), outsider, key = await _partner_setup()

    for account in (first, second):
        body = await gql(client, ACCOUNT_QUERY, {"id": gid("Account", account.id)}, key=key)
        assert body["data"]["account"]["email"] == account.email
    body = await gql(client, ACCOUNT_QUERY, {"id": gid("Account", outsider.id)}, key=key)
    assert body == {"data": {"account": None}}


@pytest.mark.parametrize("mutation", ["startPaymentMethodSetup", "updateBillingInfo"])
async def test_partner_key_cannot_mutate(
    client: httpx.AsyncClient, db: str, provider: RecordingProvider, mutation: str
) -> None:
    (first, _), _, key = await _partner_setup()
    before = await db_state()

    body = await gql(client, ALL_MUTATIONS[mutation], {"a": gid("Account", first.id)}, key=key)

    assert body["data"][mutation]["__typename"] == "PermissionDeniedError"
    assert body["data"][mutation]["code"] == "PERMISSION_DENIED"
    assert provider.calls == []
    assert await db_state() == before


async def test_partner_key_without_account_id_must_name_one(
    client: httpx.AsyncClient, db: str, provider: RecordingProvider
) -> None:
    _, _, key = await _partner_setup()

    body = await gql(client, ALL_MUTATIONS["updateBillingInfo"], {"a": None}, key=key)

    assert body["data"]["updateBillingInfo"] == {
        "__typename": "InvalidInputError",
        "code": "INVALID_INPUT",
        "message": "This key sees several accounts: pass accountId.",
        "field": "accountId",
    }


async def test_other_accounts_read_as_null(client: httpx.AsyncClient, db: str) -> None:
    # given two accounts, each with an invoice
    alice = await make_account("alice@example.test")
    bob = await make_account("bob@example.test", name="Bob")
    bobs_invoice = await make_invoice(bob)
    alices_invoice = await make_invoice(alice)
    key = await api_key(alice)

    # when Alice asks for Bob's objects, then they do not exist for her
    assert await gql(client, ACCOUNT_QUERY, {"id": gid("Account", bob.id)}, key=key) == {
        "data": {"account": None}
    }
    assert await gql(client, NODE_QUERY, {"id": gid("Invoice", bobs_invoice.id)}, key=key) == {
        "data": {"node": None}
    }
    # and her own invoice is there
    own = await gql(client, NODE_QUERY, {"id": gid("Invoice", alices_invoice.id)}, key=key)
    assert own["data"]["node"]["__typename"] == "Invoice"


async def test_mutation_on_another_accounts_record_is_not_found(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    # given Bob's billed account and Alice's admin key
    _, bob_ids = await billed_account(services, sandbox, provider)
    alice = await make_account("mallory@example.test")
    key = await api_key(alice)
    before = await db_state()

    for mutation in ("makeDefault", "deletePaymentMethod", "payInvoice", "confirmPayment"):
        body = await gql(client, ALL_MUTATIONS[mutation], bob_ids, key=key)
        assert body["data"][mutation]["__typename"] == "NotFoundError", (mutation, body)
    assert provider.calls == []
    assert await db_state() == before


@pytest.mark.parametrize("after", ["MTg0NDY3NDQwNzM3MDk1NTE2MTY=", "LTE=", "%%%"])
async def test_tampered_account_cursor_is_invalid_input(
    client: httpx.AsyncClient, db: str, after: str
) -> None:
    _, _, key = await _partner_setup()

    body = await gql(client, PARTNER_QUERY, {"after": after}, key=key)

    # the error lands on `accounts` alone (an empty page): the viewer is still answered
    assert body["data"]["viewer"]["role"] == "PARTNER"
    assert body["data"]["viewer"]["accounts"]["edges"] == []
    assert [(e["extensions"], e["path"]) for e in body["errors"]] == [
        ({"code": "INVALID_INPUT", "field": "after"}, ["viewer", "accounts"])
    ]
