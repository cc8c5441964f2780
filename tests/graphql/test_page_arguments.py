"""Page arguments on every connection: `first: 0` reads only the count, and a bad `first`
or `after` fails that one connection, not the object that holds it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from graphql import GraphQLObjectType, get_named_type

from models import InvoiceStatus
from schema import schema
from schema.validation import _empty_page
from services.auth import create_partner_key
from tests.conftest import NOW
from tests.factories import api_key, gql, make_account, make_invoice

PAGE = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor }"

#: connection name -> (document taking $first and $after, path to the connection)
CONNECTIONS: dict[str, tuple[str, list[str]]] = {
    "invoices": (
        f"""query($first: Int, $after: String) {{ viewer {{ role account {{
              name email invoices(first: $first, after: $after) {{ {PAGE} }} }} }} }}""",
        ["viewer", "account", "invoices"],
    ),
    "notifications": (
        f"""query($first: Int, $after: String) {{ viewer {{ role account {{
              name email notifications(first: $first, after: $after) {{ {PAGE} }} }} }} }}""",
        ["viewer", "account", "notifications"],
    ),
    "events": (
        f"""query($first: Int, $after: String) {{ viewer {{ role account {{
              name email events(first: $first, after: $after) {{ {PAGE} }} }} }} }}""",
        ["viewer", "account", "events"],
    ),
    "accounts": (
        f"""query($first: Int, $after: String) {{ viewer {{ role
              accounts(first: $first, after: $after) {{ {PAGE} }} }} }}""",
        ["viewer", "accounts"],
    ),
}

#: A well-formed cursor of another connection, for each connection.
FOREIGN_CURSORS = {
    "invoices": "bm90aWZpY2F0aW9uOjE=",  # notification:1
    "notifications": "MQ==",  # an account cursor
    "events": "bm90aWZpY2F0aW9uOjE=",
    "accounts": "bm90aWZpY2F0aW9uOjE=",
}


def connection_fields(*types: str) -> dict[str, Any]:
    """Fields that return a connection (on `types`, or anywhere): name -> field."""
    found = {}
    for type_ in schema._schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        if types and type_.name not in types:
            continue
        for name, field in type_.fields.items():
            if get_named_type(field.type).name.endswith("Connection"):
                found[f"{type_.name}.{name}"] = field
    return found


def test_every_connection_of_the_viewer_and_its_accounts_is_tried() -> None:
    names = {coordinate.split(".")[1] for coordinate in connection_fields("Viewer", "Account")}

    assert not sorted(names - CONNECTIONS.keys()), "add a case to CONNECTIONS"


@pytest.mark.parametrize("coordinate", sorted(connection_fields()))
def test_every_connection_has_an_empty_page_for_refused_arguments(coordinate: str) -> None:
    """What the gate answers in place of a connection whose arguments it refuses
    (schema/validation.py): deeper connections (an endpoint's deliveries) too."""
    field = connection_fields()[coordinate]

    empty = _empty_page(field.type)

    assert empty is not None, f"{coordinate} is not a non-null connection"
    page = empty()
    assert (page.edges, page.page_info.has_next_page, page.page_info.end_cursor) == (  # type: ignore[attr-defined]
        [],
        False,
        None,
    )


EMPTY_PAGE = {
    "totalCount": 0,
    "pageInfo": {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    },
    "edges": [],
}


def _at(body: dict[str, Any], path: list[str]) -> Any:
    value = body["data"]
    for name in path:
        value = value[name]
    return value


async def _key_with_history() -> str:
    account = await make_account()
    for months_ago in (3, 2, 1):
        await make_invoice(
            account, status=InvoiceStatus.PAID, period_start=NOW - timedelta(days=30 * months_ago)
        )
    return await api_key(account)


async def test_first_zero_reads_only_the_count(client: httpx.AsyncClient, db: str) -> None:
    # given three invoices
    key = await _key_with_history()
    document, path = CONNECTIONS["invoices"]

    # when the client asks for none of them
    body = await gql(client, document, {"first": 0}, key=key)

    # then the page is empty, says so consistently, and still counts them
    assert "errors" not in body, body
    assert _at(body, path) == {
        "totalCount": 3,
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
        "edges": [],
    }


async def test_first_zero_after_a_cursor_reads_only_the_count(
    client: httpx.AsyncClient, db: str
) -> None:
    key = await _key_with_history()
    document, path = CONNECTIONS["invoices"]
    first = _at(await gql(client, document, {"first": 1}, key=key), path)

    body = await gql(
        client, document, {"first": 0, "after": first["pageInfo"]["endCursor"]}, key=key
    )

    page = _at(body, path)
    assert (page["edges"], page["pageInfo"]["hasNextPage"], page["pageInfo"]["endCursor"]) == (
        [],
        False,
        None,
    )


async def test_first_zero_on_accounts_reads_only_the_count(
    client: httpx.AsyncClient, db: str
) -> None:
    emails = [f"p{i}@example.test" for i in range(3)]
    for email in emails:
        await make_account(email)
    key = await create_partner_key(account_emails=emails, now=NOW)
    document, path = CONNECTIONS["accounts"]

    body = await gql(client, document, {"first": 0}, key=key)

    assert "errors" not in body, body
    assert _at(body, path) == {**EMPTY_PAGE, "totalCount": 3}


@pytest.mark.parametrize("connection", sorted(CONNECTIONS))
@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": -1}, "first"),
        ({"after": "not-a-cursor"}, "after"),
        ({"after": "another connection's"}, "after"),
        ({"after": "abc\x00"}, "after"),
    ],
)
async def test_a_bad_page_argument_fails_only_its_connection(
    client: httpx.AsyncClient, db: str, connection: str, variables: dict[str, Any], field: str
) -> None:
    # given an account with billing history
    if not any(c.endswith(f".{connection}") for c in connection_fields("Viewer", "Account")):
        pytest.skip(f"{connection} is not in this schema")
    key = await _key_with_history()
    document, path = CONNECTIONS[connection]
    expected = dict(EMPTY_PAGE)
    fields = connection_fields("Viewer", "Account")
    (returned,) = (f for c, f in fields.items() if c.endswith(f".{connection}"))
    if "totalCount" not in get_named_type(returned.type).fields:
        document = document.replace("totalCount ", "")
        del expected["totalCount"]
    if variables.get("after") == "another connection's":
        variables = {"after": FOREIGN_CURSORS[connection]}

    # when one connection gets a bad argument
    body = await gql(client, document, variables, key=key)

    # then one coded error lands on that connection alone
    assert len(body["errors"]) == 1, body
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "INVALID_INPUT", "field": field}
    assert error["path"] == path
    # and it answers an empty page while everything around it is still there
    assert _at(body, path) == expected
    assert body["data"]["viewer"]["role"] == "ADMIN"
    if "account" in path:
        assert _at(body, path[:-1])["email"] == "alice@example.test"


async def test_a_bad_argument_on_one_account_keeps_the_others(
    client: httpx.AsyncClient, db: str
) -> None:
    # given a partner over two accounts
    emails = ["a@example.test", "b@example.test"]
    for email in emails:
        await make_account(email)
    key = await create_partner_key(account_emails=emails, now=NOW)

    # when every account's invoices are asked for with a negative page size
    body = await gql(
        client,
        "{ viewer { accounts { nodes { email invoices(first: -1) { totalCount } } } } }",
        key=key,
    )

    # then each account keeps its data and each invoices field carries its own error
    nodes = body["data"]["viewer"]["accounts"]["nodes"]
    assert [n["email"] for n in nodes] == emails
    assert [n["invoices"] for n in nodes] == [{"totalCount": 0}, {"totalCount": 0}]
    assert sorted(tuple(e["path"]) for e in body["errors"]) == [
        ("viewer", "accounts", "nodes", 0, "invoices"),
        ("viewer", "accounts", "nodes", 1, "invoices"),
    ]
