"""The partner query costs the same number of SQL statements for 1, 10 or 100 accounts,
and the billing page a small constant: every relation goes through a DataLoader."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import Settings
from models import Account, ApiKeyRole
from services.auth import LAST_USED, create_partner_key
from services.context import ServiceContext
from services.documents.pool import RenderPool
from tests.bulk import billed_accounts
from tests.conftest import NOW
from tests.factories import api_key, gql
from tests.sql_counter import count_statements

PARTNER = """
query Partner($first: Int) {
  viewer {
    accounts(first: $first) {
      totalCount
      nodes {
        id name
        subscription { status plan { name price { formatted } } nextBillingAmount { amount } }
        paymentMethods { id last4 isDefault status }
        defaultPaymentMethod { id }
        invoices(first: 12) {
          totalCount
          pageInfo { hasNextPage }
          nodes {
            number status total { formatted }
            lines { description amount { amount } }
            payments { status paymentMethod { last4 } }
          }
        }
        outstandingBalance { amount formatted }
      }
    }
  }
}
"""

BILLING_PAGE = """
query BillingPage {
  viewer {
    account {
      name tier selfServiceEnabled
      subscription {
        status paidFeaturesEnabled nextBillingDate
        plan { name price { formatted } interval }
        nextBillingAmount { formatted }
      }
      paymentMethods { id brand last4 expMonth expYear isDefault status }
      defaultPaymentMethod { id }
      outstandingBalance { formatted }
      invoices(first: 12) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node {
          id number status periodStart periodEnd paidAt
          total { formatted } amountDue { formatted }
          lines { description quantity amount { formatted } }
          payments { status failureMessage paymentMethod { last4 } }
        } }
      }
    }
  }
}
"""

AUTH_ONLY = "{ viewer { role } }"

#: Beyond authentication: the accounts page (or the one account), subscriptions, plans,
#: cards (which also answer payments' paymentMethod), first invoice pages with their
#: totals, lines, payments, outstanding balances.
DATA_STATEMENTS = 8


@pytest.fixture
async def client(
    services: ServiceContext, db: str, render_pool: RenderPool
) -> AsyncIterator[httpx.AsyncClient]:
    """100 accounts x 12 invoices is over the default query cost budget; partners reading
    that much is the case measured here, so this app has a larger one."""
    settings = Settings(database_url=db)
    app = create_app(settings, services=services, manage_db=False, renderer=render_pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def _statements(
    client: httpx.AsyncClient, query: str, key: str, variables: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[str]]:
    with count_statements() as statements:
        body = await gql(client, query, variables, key=key)
    assert "errors" not in body, body
    return body, statements


async def _auth_statements(client: httpx.AsyncClient, key: str) -> list[str]:
    """What authenticating `key` costs once warm (a key's first use writes last_used_at,
    in the background: waited for here so that it is not counted with the next query)."""
    await _statements(client, AUTH_ONLY, key)
    await LAST_USED.flush()
    _, statements = await _statements(client, AUTH_ONLY, key)
    return statements


async def _partner_run(
    client: httpx.AsyncClient, accounts: list[Account]
) -> tuple[dict[str, Any], int]:
    """The partner query's statements beyond those authentication costs."""
    key = await create_partner_key(account_emails=[a.email for a in accounts], now=NOW)
    auth = await _auth_statements(client, key)
    body, statements = await _statements(client, PARTNER, key, {"first": 100})
    # The key stays cached for a few seconds: on a slow run it can expire between the
    # two measurements and authentication would be counted as data. The warm count of
    # two back-to-back runs is the data's.
    _, again = await _statements(client, PARTNER, key, {"first": 100})
    return body, min(len(statements), len(again)) - len(auth)


async def test_partner_query_statement_count_is_flat(client: httpx.AsyncClient, db: str) -> None:
    accounts = await billed_accounts(100, invoices=14, now=NOW)
    counts = {}
    for n in (1, 10, 100):
        body, data_statements = await _partner_run(client, accounts[:n])
        nodes = body["data"]["viewer"]["accounts"]["nodes"]
        assert len(nodes) == n
        first = nodes[0]
        assert first["subscription"]["plan"]["name"] == "Plus monthly"
        assert len(first["paymentMethods"]) == 2
        assert first["defaultPaymentMethod"]["id"] == first["paymentMethods"][0]["id"]
        assert first["invoices"]["totalCount"] == 14
        assert first["invoices"]["pageInfo"]["hasNextPage"] is True
        invoices = first["invoices"]["nodes"]
        assert len(invoices) == 12
        assert invoices[0]["status"] == "OPEN"
        assert len(invoices[0]["lines"]) == 2
        assert invoices[0]["payments"][0]["paymentMethod"]["last4"] == "4202"
        assert first["outstandingBalance"]["amount"] == 3900
        counts[n] = data_statements
    assert counts == {1: DATA_STATEMENTS, 10: DATA_STATEMENTS, 100: DATA_STATEMENTS}


async def test_billing_page_is_a_small_constant(client: httpx.AsyncClient, db: str) -> None:
    (account,) = await billed_accounts(1, invoices=20, now=NOW)
    key = await api_key(account, ApiKeyRole.VIEWER)
    auth = await _auth_statements(client, key)
    body, statements = await _statements(client, BILLING_PAGE, key)
    page = body["data"]["viewer"]["account"]
    assert len(page["invoices"]["edges"]) == 12
    assert page["invoices"]["totalCount"] == 20
    assert page["outstandingBalance"]["formatted"] == "$39.00"
    assert len(statements) - len(auth) == DATA_STATEMENTS, "\n".join(statements)


async def test_batched_first_page_matches_the_keyset_page(
    client: httpx.AsyncClient, db: str
) -> None:
    """The window query and the cursor query agree on order, cursors and totals."""
    (account,) = await billed_accounts(1, invoices=5, now=NOW)
    key = await api_key(account, ApiKeyRole.VIEWER)
    query = """
    query($after: String) { viewer { account { invoices(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { number } } } } } }
    """
    seen: list[str] = []
    after = None
    while True:
        body = await gql(client, query, {"after": after}, key=key)
        conn = body["data"]["viewer"]["account"]["invoices"]
        assert conn["totalCount"] == 5
        seen += [e["node"]["number"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == [f"INV-acct-0-{i:04d}" for i in (4, 3, 2, 1, 0)]
