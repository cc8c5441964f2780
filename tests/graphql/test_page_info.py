"""PageInfo per the Relay connection spec: startCursor/endCursor bound the page,
hasNextPage/hasPreviousPage say what lies beyond it, on every connection."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from models import InvoiceStatus
from services.auth import create_partner_key
from tests.conftest import NOW
from tests.factories import api_key, gql, make_account, make_invoice

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"

INVOICES = f"""
query Invoices($first: Int, $after: String, $status: [InvoiceStatus!]) {{
  viewer {{ account {{ invoices(first: $first, after: $after, status: $status) {{
    {PAGE_INFO} edges {{ cursor node {{ number }} }}
  }} }} }}
}}
"""

ACCOUNTS = f"""
query Accounts($first: Int, $after: String) {{
  viewer {{ accounts(first: $first, after: $after) {{
    {PAGE_INFO} edges {{ cursor node {{ name }} }}
  }} }}
}}
"""


def _cursors(connection: dict[str, Any]) -> list[str]:
    return [edge["cursor"] for edge in connection["edges"]]


async def _invoices(client: httpx.AsyncClient, key: str, **variables: Any) -> dict[str, Any]:
    body = await gql(client, INVOICES, variables, key=key)
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["viewer"]["account"]["invoices"]
    return connection


async def test_invoice_pages_carry_both_ends_and_both_directions(
    client: httpx.AsyncClient, db: str
) -> None:
    # given five months of billing history
    account = await make_account()
    for months_ago in range(5, 0, -1):
        await make_invoice(
            account, status=InvoiceStatus.PAID, period_start=NOW - timedelta(days=30 * months_ago)
        )
    key = await api_key(account)

    # when the client walks it two at a time
    first = await _invoices(client, key, first=2)
    second = await _invoices(client, key, first=2, after=first["pageInfo"]["endCursor"])
    last = await _invoices(client, key, first=2, after=second["pageInfo"]["endCursor"])

    # then each page names its first and last cursor and what lies on either side
    assert first["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": _cursors(first)[0],
        "endCursor": _cursors(first)[-1],
    }
    assert second["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": True,
        "startCursor": _cursors(second)[0],
        "endCursor": _cursors(second)[-1],
    }
    assert last["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": _cursors(last)[0],
        "endCursor": _cursors(last)[0],
    }


async def test_an_empty_invoice_page_has_no_cursors_and_nothing_before_it(
    client: httpx.AsyncClient, db: str
) -> None:
    # given an account with one paid invoice and no open one
    account = await make_account()
    await make_invoice(account, status=InvoiceStatus.PAID)
    key = await api_key(account)
    paid = await _invoices(client, key, first=1)

    # when the client asks for OPEN invoices after the paid one's cursor
    page = await _invoices(
        client, key, first=1, after=paid["pageInfo"]["endCursor"], status=["OPEN"]
    )

    # then nothing precedes it among OPEN invoices and the page has no cursors
    assert page["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


async def test_account_pages_carry_both_ends_and_both_directions(
    client: httpx.AsyncClient, db: str
) -> None:
    # given a partner key over three accounts
    emails = [f"p{i}@example.test" for i in range(3)]
    for i, email in enumerate(emails):
        await make_account(email, name=f"Partner {i}")
    key = await create_partner_key(account_emails=emails, now=NOW)

    # when it pages two at a time
    body = await gql(client, ACCOUNTS, {"first": 2}, key=key)
    first = body["data"]["viewer"]["accounts"]
    body = await gql(
        client, ACCOUNTS, {"first": 2, "after": first["pageInfo"]["endCursor"]}, key=key
    )
    second = body["data"]["viewer"]["accounts"]

    # then
    assert first["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": _cursors(first)[0],
        "endCursor": _cursors(first)[1],
    }
    assert [e["node"]["name"] for e in second["edges"]] == ["Partner 2"]
    assert second["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": _cursors(second)[0],
        "endCursor": _cursors(second)[0],
    }
