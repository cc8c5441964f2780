"""Every String and ID input, found from the schema: NUL, controls, bidi overrides, lone
surrogates and over-long values are INVALID_INPUT naming the input, and nothing is
written and the provider never called. A new String input without a rule in
resolvers/validation.py fails here; a new one with a rule is tried automatically."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    Undefined,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_non_null_type,
)

from gateway.sandbox import Sandbox
from models import Account
from resolvers.context import Context
from resolvers.validation import RULES, rule_for
from schema import schema
from services.context import ServiceContext
from services.provider.recording import RecordingProvider
from tests.conftest import NOW
from tests.factories import admin_of, api_key
from tests.graphql.helpers import billed_account, db_state

SCHEMA = schema._schema
SUBSCRIPTION = SCHEMA.subscription_type.name if SCHEMA.subscription_type else "Subscription"

#: Values a client could send (JSON carries them all), each with what it tries.
HOSTILE = {
    "NUL": "Alice\x00Ltd",
    "C0 control": "Alice\x1bLtd",
    "C1 control": "Alice\x85Ltd",
    "bidi override": "Alice \u202eDLT",
    "bidi isolate": "\u2067Alice",
    "lone surrogate": "Alice\ud800",
}

#: A valid value for the inputs around the one under test, so that the request would
#: do something real if that one were let through (defaults to a plain word).
SAMPLES = {
    "AddPaymentMethodInput.providerToken": "pm_card_visa",
    "AddressInput.country": "DE",
    "UpdateBillingInfoInput.email": "billing@alice.test",
}


@dataclass(frozen=True)
class StringInput:
    """One String or ID leaf: `Type.field.arg[.inputField...]`."""

    parent: str  # the object type whose field takes the argument
    field: str
    arg: str
    inner: tuple[str, ...]  # input-object fields from the argument down to the leaf
    key: str  # its key in resolvers.validation.RULES
    scalar: str

    @property
    def coordinate(self) -> str:
        return ".".join((self.parent, self.field, self.arg, *self.inner))

    @property
    def reported_field(self) -> str:
        """`field` of the refusal: a mutation's `input` is its root."""
        rooted = self.arg == "input" and bool(self.inner)
        return ".".join(self.inner if rooted else (self.arg, *self.inner))


def _leaves(type_: Any, key: str, inner: tuple[str, ...], seen: frozenset[str]) -> list[Any]:
    """(input path, rule key, scalar) of every String/ID leaf; `0` marks a list item."""
    nullable = get_nullable_type(type_)
    if isinstance(nullable, GraphQLList):
        return _leaves(nullable.of_type, key, (*inner, "0"), seen)
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType) and named.name in ("String", "ID"):
        return [(inner, key, named.name)]
    if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        return [
            leaf
            for name, field in named.fields.items()
            for leaf in _leaves(
                field.type, f"{named.name}.{name}", (*inner, name), seen | {named.name}
            )
        ]
    return []


def string_inputs() -> list[StringInput]:
    """Every String or ID argument or input field of every field of the schema."""
    found = []
    for type_ in SCHEMA.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field_name, field in type_.fields.items():
            for arg_name, arg in field.args.items():
                key = f"{type_.name}.{field_name}.{arg_name}"
                for inner, leaf_key, scalar in _leaves(arg.type, key, (), frozenset()):
                    found.append(
                        StringInput(type_.name, field_name, arg_name, inner, leaf_key, scalar)
                    )
    return found


INPUTS = string_inputs()


def test_the_walk_finds_the_known_inputs() -> None:
    coordinates = {i.coordinate for i in INPUTS}

    assert {
        "Query.node.id",
        "Account.invoices.after",
        "Viewer.accounts.after",
        "Mutation.addPaymentMethod.input.billingAddress.country",
        "Mutation.updateBillingInfo.input.taxId",
        "Mutation.payInvoice.input.idempotencyKey",
    } <= coordinates


def test_every_string_input_has_its_own_rule() -> None:
    strings = {i.key for i in INPUTS if i.scalar == "String"}

    missing = sorted(strings - RULES.keys())
    stale = sorted(RULES.keys() - strings)

    assert not missing, f"String inputs without a rule in resolvers/validation.py: {missing}"
    assert not stale, f"rules for inputs that no longer exist: {stale}"


def _path_to(type_name: str) -> list[str]:
    """Field names from Query down to an object of `type_name`, through fields that need
    no arguments (the caller's own objects)."""
    query = SCHEMA.query_type
    assert query is not None
    queue: deque[tuple[GraphQLNamedType, list[str]]] = deque([(query, [])])
    seen = {query.name}
    while queue:
        current, path = queue.popleft()
        if current.name == type_name:
            return path
        for name, field in getattr(current, "fields", {}).items():
            named = get_named_type(field.type)
            if any(is_non_null_type(a.type) for a in field.args.values()):
                continue
            if isinstance(named, GraphQLObjectType) and named.name not in seen:
                seen.add(named.name)
                queue.append((named, [*path, name]))
    raise AssertionError(f"no argument-free path from Query to {type_name}")


#: A valid value for a required input of each other scalar.
SCALAR_SAMPLES: dict[str, Any] = {
    "Boolean": False,
    "Int": 0,
    "Float": 0.0,
    "Decimal": "1",
    "DateTime": "2026-11-22T12:00:00+00:00",
}


def _variables(case: StringInput, value: str, ids: dict[str, str]) -> dict[str, Any]:
    """The argument's value: valid everywhere (every required input filled in) except at
    the leaf under test, which gets `value`."""
    arg_type = SCHEMA.get_type(case.parent).fields[case.field].args[case.arg].type

    def sample(type_: Any, key: str, name: str) -> Any:
        nullable = get_nullable_type(type_)
        if isinstance(nullable, GraphQLList):
            return [sample(nullable.of_type, key, name)]
        if isinstance(nullable, GraphQLInputObjectType):
            return build(nullable, ())
        if isinstance(nullable, GraphQLEnumType):
            return next(iter(nullable.values))
        if nullable.name == "ID":
            return ids.get(name.removesuffix("Id"), ids["account"])
        if nullable.name == "String":
            return SAMPLES.get(key, "Valid text")
        return SCALAR_SAMPLES[nullable.name]

    def build(type_: Any, inner: tuple[str, ...]) -> Any:
        nullable = get_nullable_type(type_)
        if inner and inner[0] == "0":
            assert isinstance(nullable, GraphQLList)
            return [build(nullable.of_type, inner[1:])]
        if not isinstance(nullable, GraphQLInputObjectType):
            return value
        built: dict[str, Any] = {}
        for name, field in nullable.fields.items():
            if inner and name == inner[0]:
                built[name] = build(field.type, inner[1:])
            elif is_non_null_type(field.type) and field.default_value is Undefined:
                built[name] = sample(field.type, f"{nullable.name}.{name}", name)
        return built

    return {"v": build(arg_type, case.inner)}


def _document(case: StringInput) -> str:
    parent = SCHEMA.get_type(case.parent)
    field = parent.fields[case.field]
    arg_type = str(field.args[case.arg].type)
    returns = get_named_type(field.type)
    selection = ""
    if isinstance(returns, GraphQLUnionType):
        selection = "{ __typename ... on UserError { code message field } }"
    elif returns.name.endswith("Connection"):
        counted = "totalCount" in getattr(returns, "fields", {})
        selection = "{ totalCount edges { cursor } }" if counted else "{ edges { cursor } }"
    elif is_composite_type(returns):
        selection = "{ __typename }"
    leaf = f"{case.field}({case.arg}: $v) {selection}"
    if case.parent == "Mutation":
        return f"mutation($v: {arg_type}) {{ {leaf} }}"
    if case.parent == SUBSCRIPTION:
        return f"subscription($v: {arg_type}) {{ {leaf} }}"
    for name in reversed(_path_to(case.parent)):
        leaf = f"{name} {{ {leaf} }}"
    return f"query($v: {arg_type}) {{ {leaf} }}"


async def _post(
    client: httpx.AsyncClient, document: str, variables: dict[str, Any], key: str
) -> dict[str, Any]:
    """JSON with \\u escapes, as a browser's JSON.stringify sends a lone surrogate."""
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": document, "variables": variables}, ensure_ascii=True),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    body: dict[str, Any] = response.json()
    if response.status_code != 200:
        body["status"] = response.status_code
    return body


async def _subscribe(
    services: ServiceContext, account: Account, document: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """A subscription's first answer, in process (the transports are tests/events/)."""
    context = Context(services=services, principal=admin_of(account))
    stream = await schema.subscribe(document, variable_values=variables, context_value=context)
    if isinstance(stream, AsyncIterator):
        try:
            result = await asyncio.wait_for(anext(stream), timeout=5)
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
    else:
        result = stream
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    return body


async def _webhook_endpoint(account: Account) -> None:
    from models import ApiKeyRole
    from models.events import WebhookEndpoint
    from services.auth import account_principal

    await WebhookEndpoint.create(
        owner_principal=account_principal(account.id, ApiKeyRole.ADMIN),
        owner_email=account.email,
        account_id=account.id,
        url="https://hooks.example.test/billing",
        types=[],
        secret="whsec_test",
        created_at=NOW,
    )


#: Objects that must exist for a field on them to be resolved at all.
SETUP = {"WebhookEndpoint": _webhook_endpoint}


def _hostile_values(case: StringInput) -> dict[str, str]:
    limit = rule_for(case.key, case.scalar).max_length
    return {**HOSTILE, f"longer than {limit}": "a" * (limit + 1)}


async def _ids(services: ServiceContext, sandbox: Sandbox, provider: RecordingProvider) -> Any:
    account, ids = await billed_account(services, sandbox, provider)
    named = {
        "account": ids["a"],
        "paymentMethod": ids["pm"],
        "invoice": ids["inv"],
        "payment": ids["pay"],
    }
    return account, named


def _check(case: StringInput, body: dict[str, Any], label: str) -> str | None:
    """Why `body` is not the refusal `case` must get, or None."""
    if label == "lone surrogate" and body.get("status") == 400:
        # not UTF-8 text: the HTTP layer refuses the body before GraphQL parses it
        codes = [e.get("extensions", {}).get("code") for e in body["errors"]]
        return None if codes == ["BAD_REQUEST"] else f"400 with {codes}"
    if "status" in body:
        return f"HTTP {body['status']}"
    if case.parent == "Mutation":
        if "errors" in body:
            return "a top-level error instead of InvalidInputError"
        result = body["data"][case.field]
        expected = ("InvalidInputError", "INVALID_INPUT", case.reported_field)
        got = (result.get("__typename"), result.get("code"), result.get("field"))
        if got != expected:
            return f"got {got}"
        return _wrong_reason(result.get("message", ""))
    errors = body.get("errors") or []
    if len(errors) != 1:
        return f"{len(errors)} errors"
    (error,) = errors
    extensions = error.get("extensions", {})
    if (extensions.get("code"), extensions.get("field")) != ("INVALID_INPUT", case.arg):
        return f"got {extensions}"
    path = [case.field] if case.parent == SUBSCRIPTION else [*_path_to(case.parent), case.field]
    at = error.get("path") or []
    if [step for step in at if not isinstance(step, int)] != path:  # list items: any index
        return f"error at {at}, not {path}"
    holder = body["data"]
    for step in at[:-1]:  # every object above the refused field is still answered
        holder = holder[step]
        if holder is None:
            return f"{step} was nulled"
    return _wrong_reason(error.get("message", ""))


def _wrong_reason(message: str) -> str | None:
    """The refusal names the hostile value's fault, not some other problem of the request."""
    reasons = ("contains a", "longer than")
    return None if any(r in message for r in reasons) else f"refused for: {message}"


@pytest.mark.parametrize("case", INPUTS, ids=lambda c: c.coordinate)
async def test_hostile_text_is_refused_and_changes_nothing(
    case: StringInput,
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    # given an account with cards, invoices and a payment, and its admin key
    account, ids = await _ids(services, sandbox, provider)
    key = await api_key(account)
    if case.parent in SETUP:
        await SETUP[case.parent](account)
    document = _document(case)
    before = await db_state()
    provider.reset()

    failures = {}
    for label, value in _hostile_values(case).items():
        # when the input carries the hostile value
        variables = _variables(case, value, ids)
        if case.parent == SUBSCRIPTION:
            body = await _subscribe(services, account, document, variables)
        else:
            body = await _post(client, document, variables, key)

        # then it is refused as INVALID_INPUT naming the input, without INTERNAL
        problem = _check(case, body, label)
        if problem is not None:
            failures[label] = (problem, body)

    assert not failures, failures
    # and nothing was written and the provider was never called
    assert await db_state() == before
    assert provider.names() == []
