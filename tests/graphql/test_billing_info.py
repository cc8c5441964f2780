"""Billing info: changes reach the account and future invoices, never issued ones."""

from __future__ import annotations

from datetime import timedelta

import httpx

from models import Account, InvoiceStatus
from services.invoices import issue_invoice
from services.provider.recording import RecordingProvider
from tests.conftest import NOW
from tests.factories import api_key, gql, make_account, make_invoice
from tests.graphql.helpers import db_state, gid

_INFO = "name email taxId address { line1 line2 city state postalCode country }"

UPDATE = f"""
mutation Update($input: UpdateBillingInfoInput!) {{
  updateBillingInfo(input: $input) {{
    __typename
    ... on UpdateBillingInfoSuccess {{ account {{ billingInfo {{ {_INFO} }} }} }}
    ... on UserError {{ code message field }}
  }}
}}
"""

PAGE = f"""
query {{ viewer {{ account {{
  billingInfo {{ {_INFO} }}
  invoices(status: [OPEN, DRAFT]) {{ edges {{ node {{ status billingInfo {{ {_INFO} }} }} }} }}
}} }} }}
"""

NEW_INFO = {
    "name": "Alice GmbH",
    "email": "billing@alice.test",
    "address": {
        "line1": "Unter den Linden 1",
        "city": "Berlin",
        "postalCode": "10117",
        "country": "DE",
    },
    "taxId": "DE136695976",
}


async def _update(client: httpx.AsyncClient, key: str, **fields: object) -> dict[str, object]:
    body = await gql(client, UPDATE, {"input": fields}, key=key)
    assert "errors" not in body, body
    result: dict[str, object] = body["data"]["updateBillingInfo"]
    return result


async def test_update_changes_the_account_billing_info(client: httpx.AsyncClient, db: str) -> None:
    account = await make_account()
    key = await api_key(account)

    result = await _update(client, key, **NEW_INFO)

    assert result["__typename"] == "UpdateBillingInfoSuccess", result
    expected = {
        "name": "Alice GmbH",
        "email": "billing@alice.test",
        "taxId": "DE136695976",  # an EU VAT number keeps its country prefix
        "address": {
            "line1": "Unter den Linden 1",
            "line2": None,
            "city": "Berlin",
            "state": None,
            "postalCode": "10117",
            "country": "DE",
        },
    }
    assert result["account"]["billingInfo"] == expected
    page = (await gql(client, PAGE, key=key))["data"]["viewer"]["account"]
    assert page["billingInfo"] == expected


async def test_only_the_parts_sent_change(client: httpx.AsyncClient, db: str) -> None:
    account = await make_account()
    key = await api_key(account)
    await _update(client, key, **NEW_INFO)

    result = await _update(client, key, name="Alice AG", accountId=gid("Account", account.id))

    info = result["account"]["billingInfo"]
    assert info["name"] == "Alice AG"
    assert info["taxId"] == "DE136695976"
    assert info["address"]["city"] == "Berlin"


async def test_null_clears_a_part(client: httpx.AsyncClient, db: str) -> None:
    account = await make_account()
    key = await api_key(account)
    await _update(client, key, **NEW_INFO)

    result = await _update(client, key, taxId=None, address=None)

    info = result["account"]["billingInfo"]
    assert (info["taxId"], info["address"], info["name"]) == (None, None, "Alice GmbH")


async def test_issued_invoice_keeps_its_snapshot(client: httpx.AsyncClient, db: str) -> None:
    # given an issued invoice and a draft, both under the old billing info
    account = await make_account()
    await make_invoice(account)
    draft = await make_invoice(
        account, period_start=NOW + timedelta(days=1), status=InvoiceStatus.DRAFT
    )
    key = await api_key(account)

    # when the billing info changes
    await _update(client, key, **NEW_INFO)
    await issue_invoice(draft, NOW + timedelta(days=1), due_in=timedelta(days=14))

    # then the invoice issued before keeps the old name, the one issued after has the new
    edges = (await gql(client, PAGE, key=key))["data"]["viewer"]["account"]["invoices"]["edges"]
    newer, older = (edge["node"] for edge in edges)
    assert older["billingInfo"] == {
        "name": "Alice Ltd",
        "email": "alice@example.test",
        "taxId": None,
        "address": None,
    }
    assert newer["billingInfo"]["name"] == "Alice GmbH"
    assert newer["billingInfo"]["address"]["city"] == "Berlin"


async def test_invalid_vat_number_is_refused(
    client: httpx.AsyncClient, db: str, provider: RecordingProvider
) -> None:
    account = await make_account()
    key = await api_key(account)
    before = await db_state()

    result = await _update(client, key, taxId="DE000", address={"country": "DE"})

    assert result == {
        "__typename": "InvalidInputError",
        "code": "INVALID_INPUT",
        "message": "taxId is not a valid DE VAT number.",
        "field": "taxId",
    }
    assert await db_state() == before
    assert provider.calls == []


async def test_invalid_email_is_refused(client: httpx.AsyncClient, db: str) -> None:
    account = await make_account()
    key = await api_key(account)

    result = await _update(client, key, email="not-an-email")

    assert (result["__typename"], result["field"]) == ("InvalidInputError", "email")
    assert (await Account.get(id=account.id)).billing_email is None


async def test_an_invisible_billing_name_is_refused_with_its_path(
    client: httpx.AsyncClient, db: str, provider: RecordingProvider
) -> None:
    account = await make_account()
    key = await api_key(account)
    before = await db_state()

    for name, message in (
        ("Al\u200bice", "name contains an invisible formatting character"),
        ("\u3164\u3164", "name has no visible characters"),
        ("\u2067Alice\u2069", "name contains a bidirectional control character."),
    ):
        result = await _update(client, key, name=name)
        assert (result["__typename"], result["code"], result["field"]) == (
            "InvalidInputError",
            "INVALID_INPUT",
            "name",
        )
        assert str(result["message"]).startswith(message)
    ok = await _update(
        client,
        key,
        name="\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \U0001f468\u200d\U0001f469",
    )
    assert ok["__typename"] == "UpdateBillingInfoSuccess"
    del before["Account"]
    after = await db_state()
    del after["Account"]
    assert after == before
