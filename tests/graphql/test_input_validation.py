"""The review's findings on text input, through GraphQL: countries that are not ISO
3166-1 codes, a tax ID left invalid by a country change, a bidi override in a billing
name, NUL (INTERNAL on PostgreSQL before). The schema-wide sweep of every String and ID
input is tests/security/test_string_inputs.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from models import Account
from services.provider.recording import RecordingProvider
from tests.factories import api_key, gql, make_account
from tests.graphql.helpers import db_state, gid

UPDATE = """
mutation Update($input: UpdateBillingInfoInput!) {
  updateBillingInfo(input: $input) {
    __typename
    ... on UpdateBillingInfoSuccess { account { billingInfo { name taxId address { country } } } }
    ... on UserError { code message field }
  }
}
"""

ADD_CARD = """
mutation Add($input: AddPaymentMethodInput!) {
  addPaymentMethod(input: $input) { __typename ... on UserError { code message field } }
}
"""


async def _update(client: httpx.AsyncClient, key: str, **fields: Any) -> dict[str, Any]:
    body = await gql(client, UPDATE, {"input": fields}, key=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["updateBillingInfo"]
    return result


@pytest.mark.parametrize("country", ["ZZ", "EU", "UN", "XK", "QZ", "XA", "AA", "uk"])
async def test_a_code_that_is_not_an_iso_country_is_refused(
    client: httpx.AsyncClient, db: str, provider: RecordingProvider, country: str
) -> None:
    key = await api_key(await make_account())
    before = await db_state()

    result = await _update(client, key, address={"city": "Somewhere", "country": country})

    assert (result["__typename"], result["code"], result["field"]) == (
        "InvalidInputError",
        "INVALID_INPUT",
        "address.country",
    )
    assert await db_state() == before
    assert provider.names() == []


@pytest.mark.parametrize("country", ["ZZ", "EU"])
async def test_a_card_address_in_no_country_is_refused_before_the_provider(
    client: httpx.AsyncClient, db: str, provider: RecordingProvider, country: str
) -> None:
    key = await api_key(await make_account())
    before = await db_state()

    body = await gql(
        client,
        ADD_CARD,
        {"input": {"providerToken": "pm_card_visa", "billingAddress": {"country": country}}},
        key=key,
    )

    result = body["data"]["addPaymentMethod"]
    assert (result["code"], result["field"]) == ("INVALID_INPUT", "billingAddress.country")
    assert await db_state() == before
    assert provider.names() == []


async def test_a_valid_country_is_accepted_and_upper_cased(
    client: httpx.AsyncClient, db: str
) -> None:
    key = await api_key(await make_account())

    result = await _update(client, key, address={"country": " de "})

    assert result["account"]["billingInfo"]["address"] == {"country": "DE"}


async def test_changing_only_the_country_re_checks_the_tax_id(
    client: httpx.AsyncClient, db: str, provider: RecordingProvider
) -> None:
    # given a German address and VAT number
    account = await make_account()
    key = await api_key(account)
    await _update(client, key, address={"country": "DE"}, taxId="DE136695976")
    before = await db_state()

    # when only the country changes, to France
    result = await _update(client, key, address={"country": "FR"})

    # then the German VAT number is not kept for a French address
    assert (result["__typename"], result["field"]) == ("InvalidInputError", "taxId")
    assert await db_state() == before
    row = await Account.get(id=account.id)
    assert (row.address_country, row.tax_id) == ("DE", "DE136695976")


async def test_changing_the_country_with_a_matching_tax_id_is_accepted(
    client: httpx.AsyncClient, db: str
) -> None:
    key = await api_key(await make_account())
    await _update(client, key, address={"country": "DE"}, taxId="DE136695976")

    result = await _update(client, key, address={"country": "FR"}, taxId="FR40303265045")

    info = result["account"]["billingInfo"]
    assert (info["address"]["country"], info["taxId"]) == ("FR", "FR40303265045")


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("Alice \u202eDLT", "name"),  # printed "Alice TLD" reversed on the PDF before
        ("\u2066Alice\u2069", "name"),
        ("Alice\x00Ltd", "name"),  # INTERNAL on PostgreSQL, stored on SQLite before
        ("Alice\x1b[31mLtd", "name"),
        ("Alice\x85Ltd", "name"),
        ("A" * 201, "name"),
    ],
)
async def test_a_billing_name_with_controls_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, db: str, provider: RecordingProvider, name: str, field: str
) -> None:
    key = await api_key(await make_account())
    before = await db_state()

    body = await gql(client, UPDATE, {"input": {"name": name}}, key=key)

    assert "errors" not in body, body  # no INTERNAL, on SQLite and PostgreSQL alike
    result = body["data"]["updateBillingInfo"]
    assert (result["__typename"], result["code"], result["field"]) == (
        "InvalidInputError",
        "INVALID_INPUT",
        field,
    )
    assert await db_state() == before
    assert provider.names() == []


async def test_text_is_stored_trimmed_and_nfc(client: httpx.AsyncClient, db: str) -> None:
    account = await make_account()
    key = await api_key(account)

    result = await _update(client, key, name="  Cafe\u0301 Mu\u0308ller GmbH ")

    assert result["account"]["billingInfo"]["name"] == "Caf\u00e9 M\u00fcller GmbH"
    assert (await Account.get(id=account.id)).billing_name == "Caf\u00e9 M\u00fcller GmbH"


@pytest.mark.parametrize("query_field", ["account", "node"])
async def test_nul_in_a_query_id_is_a_coded_error_not_internal(
    client: httpx.AsyncClient, db: str, query_field: str
) -> None:
    account = await make_account()
    key = await api_key(account)

    body = await gql(
        client,
        f"query($id: ID!) {{ {query_field}(id: $id) {{ id }} }}",
        {"id": gid("Account", account.id) + "\x00"},
        key=key,
    )

    assert body["data"] == {query_field: None}
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "INVALID_INPUT", "field": "id"}
    assert error["path"] == [query_field]
