"""schema/executor.py's short path answers exactly what graphql-core's full path answers:
the same data, the same errors at the same paths, the same null propagation; and it is
really taken (or the speed it was built for is gone without a test noticing)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

import schema as schema_package
from bench.queries import BILLING_PAGE, PARTNER
from models import ApiKeyRole
from schema.executor import PlainFieldsExecutor
from schema.plain_fields import plain_field
from services.auth import create_partner_key
from tests.bulk import billed_accounts
from tests.conftest import NOW
from tests.factories import api_key

# --- a small schema with every way a plain field can go wrong --------------------------


@strawberry.type
class Item:
    name: str
    maybe: str | None
    count: int

    @strawberry.field
    def shout(self) -> str:
        if self.name == "boom":
            raise ValueError("shout failed")
        return self.name.upper()

    @strawberry.field
    def field_name(self, info: strawberry.Info) -> str:
        return f"{info.field_name}:{self.name}"


@strawberry.type
class Box:
    item: Item
    maybe_item: Item | None
    items: list[Item]
    loose: list[Item | None]


def _items(*names: Any) -> list[Any]:
    return [None if n is None else Item(name=n, maybe=None, count=1) for n in names]


@strawberry.type
class Query:
    @strawberry.field
    def good(self) -> Box:
        item = Item(name="a", maybe="m", count=2)
        return Box(item=item, maybe_item=None, items=_items("a", "b"), loose=_items("c", None))

    @strawberry.field
    def null_in_non_null(self) -> Box | None:
        broken = Item(name=None, maybe=None, count=1)  # type: ignore[arg-type]
        return Box(item=broken, maybe_item=None, items=[], loose=[])

    @strawberry.field
    def null_item_in_list(self) -> Box | None:
        return Box(item=_items("a")[0], maybe_item=None, items=_items("a", None), loose=[])

    @strawberry.field
    def raising_method(self) -> list[Item | None]:
        return _items("ok", "boom")

    @strawberry.field
    def strict(self) -> Box | None:
        return Box(item=_items("a")[0], maybe_item=None, items=_items("ok", "boom"), loose=[])

    @strawberry.field
    def int_too_big(self) -> Item | None:
        return Item(name="a", maybe=None, count=2**40)

    @strawberry.field
    def wrong_object(self) -> Item | None:
        return "not an item"  # type: ignore[return-value]


QUERIES = {
    "good": """{ good {
        item { name maybe count shout fieldName __typename }
        maybeItem { name }
        items { name shout }
        loose { name count }
        alias: item { n: name }
    } }""",
    "null_in_non_null": "{ nullInNonNull { item { name count } } }",
    "null_item_in_list": "{ nullItemInList { items { name } } }",
    "raising_method": "{ raisingMethod { name shout } }",
    "int_too_big": "{ intTooBig { name count } }",
    "error_in_a_non_null_item": "{ strict { item { name } items { name shout } } }",
    "wrong_object": "{ wrongObject { name } }",
}


class Untouched(SchemaExtension):
    """A middleware that says nothing about plain fields: every field must reach it."""

    seen: list[str] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        Untouched.seen.append(info.field_name)
        return _next(root, info, *args, **kwargs)


def _answer(result: Any) -> tuple[Any, list[tuple[str, Any, Any]]]:
    errors = [(e.message, e.path, e.locations) for e in result.errors or ()]
    return result.data, errors


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_the_short_path_answers_as_graphql_core_does(name: str) -> None:
    plain = strawberry.Schema(query=Query, execution_context_class=PlainFieldsExecutor)
    full = strawberry.Schema(query=Query)
    expected = _answer(await full.execute(QUERIES[name]))
    assert _answer(await plain.execute(QUERIES[name])) == expected
    if name != "good":
        assert expected[1], "each broken case is an error in graphql-core too"


def test_only_fields_with_nothing_else_to_run_are_plain() -> None:
    types = schema_package.schema._schema.type_map
    money, invoice, account = types["Money"], types["Invoice"], types["Account"]
    assert plain_field("Money", "amount", money.fields["amount"]) is not None
    assert plain_field("Money", "formatted", money.fields["formatted"]) is not None
    lines = plain_field("Invoice", "lines", invoice.fields["lines"])
    assert lines is not None and lines.needs_info
    # arguments (and the gate that checks them) or an async resolver: the full path
    assert plain_field("Account", "invoices", account.fields["invoices"]) is None
    assert plain_field("Invoice", "billingInfo", invoice.fields["billingInfo"]) is None


async def test_a_middleware_that_does_not_opt_in_sees_every_field() -> None:
    Untouched.seen = []
    plain = strawberry.Schema(
        query=Query, execution_context_class=PlainFieldsExecutor, extensions=[Untouched]
    )
    result = await plain.execute("{ good { item { name count } } }")
    assert result.errors is None
    assert Untouched.seen.count("name") == 1 and Untouched.seen.count("count") == 1


# --- the real schema, over seeded billing data ------------------------------------------


@pytest.fixture
def full_executor() -> Iterator[Any]:
    def use(full: bool) -> None:
        schema_package.schema.execution_context_class = (
            StrawberryGraphQLCoreExecutionContext if full else PlainFieldsExecutor
        )

    yield use
    use(False)


async def _post(client: httpx.AsyncClient, key: str, query: str) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


async def test_billing_pages_read_the_same_through_both_paths(
    client: httpx.AsyncClient, full_executor: Any
) -> None:
    assert schema_package.schema.execution_context_class is PlainFieldsExecutor
    accounts = await billed_accounts(3, invoices=5, now=NOW)
    partner = await create_partner_key(account_emails=[a.email for a in accounts], now=NOW)
    viewer = await api_key(accounts[0], ApiKeyRole.VIEWER)
    answers = {}
    for full in (False, True):
        full_executor(full)
        answers[full] = (
            await _post(client, partner, PARTNER),
            await _post(client, viewer, BILLING_PAGE),
        )
    assert answers[False] == answers[True]
    partner_page, billing_page = answers[False]
    nodes = partner_page["data"]["viewer"]["accounts"]["nodes"]
    assert len(nodes) == 3 and all(len(n["invoices"]["nodes"]) == 5 for n in nodes)
    edges = billing_page["data"]["viewer"]["account"]["invoices"]["edges"]
    assert edges and edges[0]["node"]["lines"] and edges[0]["node"]["total"]["formatted"]
