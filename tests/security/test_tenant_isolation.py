"""Every ID-taking field, found from the schema: another account's ID returns nothing and
changes nothing. A new field (or input field) that takes an ID fails this suite until a
case for it is added to CASES."""

from __future__ import annotations

from typing import Any

import httpx
from graphql import (
    GraphQLInputObjectType,
    GraphQLObjectType,
    get_named_type,
)

from gateway.sandbox import Sandbox
from models import ApiKeyRole
from schema import schema
from services.auth import create_partner_key
from services.context import ServiceContext
from services.provider.recording import RecordingProvider
from tests.conftest import NOW
from tests.factories import add_card, api_key, gql, make_account, make_invoice, subscribe
from tests.graphql.helpers import ALL_MUTATIONS, billed_account, db_state, gid

_ERR = "__typename ... on UserError { code }"

#: "Type.field.arg[.inputField]" -> (document, variables from the victim's and the
#: attacker's IDs). Each document passes the victim's ID where that argument goes.
CASES: dict[str, tuple[str, Any]] = {
    # Subscriptions do not run over POST: tests/events/test_streams.py tries another
    # account's ID over SSE (NOT_FOUND); tests/events/test_webhooks.py the endpoint IDs.
    "Events.billingEvents.accountId": ("", None),
    "Mutation.rotateWebhookSecret.input.endpointId": ("", None),
    "Mutation.deleteWebhookEndpoint.input.endpointId": ("", None),
    "Mutation.createWebhookEndpoint.input.accountId": (
        f"""mutation($a: ID) {{ createWebhookEndpoint(input: {{accountId: $a,
              url: "https://example.com/hooks"}}) {{ {_ERR} }} }}""",
        lambda v, a: {"a": v["a"]},
    ),
    "Query.account.id": (
        "query($id: ID!) { account(id: $id) { id name } }",
        lambda v, a: {"id": v["a"]},
    ),
    "Query.node.id": ("", None),  # one case per Node type: see test_node_hides_every_type
    "Mutation.startPaymentMethodSetup.input.accountId": (
        ALL_MUTATIONS["startPaymentMethodSetup"],
        lambda v, a: {"a": v["a"]},
    ),
    "Mutation.addPaymentMethod.input.accountId": (
        ALL_MUTATIONS["addPaymentMethod"],
        lambda v, a: {"a": v["a"]},
    ),
    "Mutation.confirmPaymentMethod.input.paymentMethodId": (
        ALL_MUTATIONS["confirmPaymentMethod"],
        lambda v, a: {"pm": v["pm"]},
    ),
    "Mutation.makeDefault.input.paymentMethodId": (
        ALL_MUTATIONS["makeDefault"],
        lambda v, a: {"pm": v["pm"]},
    ),
    "Mutation.deletePaymentMethod.input.paymentMethodId": (
        ALL_MUTATIONS["deletePaymentMethod"],
        lambda v, a: {"pm": v["pm"]},
    ),
    "Mutation.payInvoice.input.invoiceId": (
        ALL_MUTATIONS["payInvoice"],
        lambda v, a: {"inv": v["inv"]},
    ),
    "Mutation.payInvoice.input.paymentMethodId": (
        f"""mutation($inv: ID!, $pm: ID) {{
              payInvoice(input: {{invoiceId: $inv, paymentMethodId: $pm}}) {{ {_ERR} }} }}""",
        lambda v, a: {"inv": a["inv"], "pm": v["pm"]},  # my invoice, the victim's card
    ),
    "Mutation.confirmPayment.input.paymentId": (
        ALL_MUTATIONS["confirmPayment"],
        lambda v, a: {"pay": v["pay"]},
    ),
    "Mutation.updateBillingInfo.input.accountId": (
        ALL_MUTATIONS["updateBillingInfo"],
        lambda v, a: {"a": v["a"]},
    ),
    "Query.usage.accountId": (
        "query($id: ID!) { usage(accountId: $id) { overageAmount { amount } } }",
        lambda v, a: {"id": v["a"]},
    ),
    "Mutation.reportUsage.input.accountId": (
        f"""mutation($a: ID!) {{ reportUsage(input: {{accountId: $a,
              events: [{{id: "e1", meter: "credits", quantity: "1"}}]}}) {{ {_ERR} }} }}""",
        lambda v, a: {"a": v["a"]},
    ),
    "Mutation.updateOverageSettings.input.accountId": (
        f"""mutation($a: ID) {{
              updateOverageSettings(input: {{accountId: $a, enabled: false}}) {{ {_ERR} }} }}""",
        lambda v, a: {"a": v["a"]},
    ),
    "Mutation.updateUsageNotifications.input.accountId": (
        f"""mutation($a: ID) {{
              updateUsageNotifications(input: {{accountId: $a, email: false}}) {{ {_ERR} }} }}""",
        lambda v, a: {"a": v["a"]},
    ),
    "Mutation.previewPlanChange.input.accountId": (
        ALL_MUTATIONS["previewPlanChange"],
        lambda v, a: {"a": v["a"]},
    ),
    "Mutation.previewPlanChange.input.planId": (
        ALL_MUTATIONS["previewPlanChange"],
        lambda v, a: {"plan": v["pm"]},  # the victim's card passed as a plan
    ),
    "Mutation.changePlan.input.accountId": (
        ALL_MUTATIONS["changePlan"],
        lambda v, a: {"a": v["a"]},
    ),
    "Mutation.changePlan.input.planId": (
        ALL_MUTATIONS["changePlan"],
        lambda v, a: {"plan": v["pm"]},
    ),
    "Mutation.changePlan.input.paymentMethodId": (
        ALL_MUTATIONS["changePlan"],
        lambda v, a: {"a": a["a"], "cpm": v["pm"]},  # my account, the victim's card
    ),
    "Mutation.cancelPendingPlanChange.input.accountId": (
        ALL_MUTATIONS["cancelPendingPlanChange"],
        lambda v, a: {"a": v["a"]},
    ),
    "Mutation.cancelSubscription.input.accountId": (
        ALL_MUTATIONS["cancelSubscription"],
        lambda v, a: {"a": v["a"]},
    ),
    "Mutation.resumeSubscription.input.accountId": (
        ALL_MUTATIONS["resumeSubscription"],
        lambda v, a: {"a": v["a"]},
    ),
    "Mutation.updatePaymentMethod.input.paymentMethodId": (
        ALL_MUTATIONS["updatePaymentMethod"],
        lambda v, a: {"pm": v["pm"]},
    ),
}


#: Refused by role before any ID is looked up: only SERVICE keys report usage.
ROLE_FIRST = {"Mutation.reportUsage.input.accountId"}


#: Cases whose first ID is the attacker's own object: a viewer is refused on that one
#: (found, then role) before the victim's ID is even looked up.
OWN_OBJECT_FIRST = {
    "Mutation.payInvoice.input.paymentMethodId",
    "Mutation.changePlan.input.paymentMethodId",
}


def _id_paths(input_type: Any, prefix: str, seen: frozenset[str]) -> list[str]:
    named = get_named_type(input_type)
    if named.name == "ID":
        return [prefix]
    if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        return [
            path
            for name, field in named.fields.items()
            for path in _id_paths(field.type, f"{prefix}.{name}", seen | {named.name})
        ]
    return []


def id_taking_fields() -> set[str]:
    """Every argument (or input field) of type ID on any output field of the schema."""
    found = set()
    for type_ in schema._schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field_name, field in type_.fields.items():
            for arg_name, arg in field.args.items():
                found.update(
                    _id_paths(arg.type, f"{type_.name}.{field_name}.{arg_name}", frozenset())
                )
    return found


def test_every_id_taking_field_has_an_isolation_case() -> None:
    fields = id_taking_fields()

    missing = sorted(fields - CASES.keys())
    stale = sorted(CASES.keys() - fields)

    assert not missing, f"ID-taking fields without a cross-account case in CASES: {missing}"
    assert not stale, f"CASES for fields that no longer exist: {stale}"


async def _attacker(
    services: ServiceContext, sandbox: Sandbox
) -> tuple[dict[str, str], dict[str, str]]:
    mallory = await make_account("mallory@example.test", name="Mallory")
    sub = await subscribe(mallory)
    await add_card(services, sandbox, mallory)
    invoice = await make_invoice(mallory, subscription=sub)
    keys = {
        "admin": await api_key(mallory),
        "viewer": await api_key(mallory, ApiKeyRole.VIEWER),
        "partner": await create_partner_key(
            account_emails=[mallory.email], writable_emails=[mallory.email], now=NOW
        ),
    }
    return keys, {"a": gid("Account", mallory.id), "inv": gid("Invoice", invoice.id)}


def _leaks(body: dict[str, Any], victim_ids: dict[str, str]) -> list[str]:
    text = str(body.get("data"))
    return [name for name, value in victim_ids.items() if value in text]


async def test_cross_account_ids_return_nothing_and_change_nothing(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    # given a victim with cards, invoices and payments, and an attacker with keys of
    # every kind for its own account
    _, victim = await billed_account(services, sandbox, provider)
    keys, mine = await _attacker(services, sandbox)
    provider.reset()
    before = await db_state()

    for case, (document, variables) in CASES.items():
        if variables is None:
            continue
        for role, key in keys.items():
            body = await gql(client, document, variables(victim, mine), key=key)

            # then nothing is found and nothing of the victim's is in the answer
            assert "errors" not in body, (case, role, body)
            (result,) = body["data"].values()
            allowed = {"NOT_FOUND"}
            if case in OWN_OBJECT_FIRST and role == "viewer":
                allowed.add("PERMISSION_DENIED")  # refused on its own invoice, before the card
            if case in ROLE_FIRST:
                allowed.add("PERMISSION_DENIED")
            assert result is None or result.get("code") in allowed, (case, role, body)
            assert not _leaks(body, victim), (case, role, body)

    # and nothing changed, and the provider was never called
    assert await db_state() == before
    assert provider.names() == []


async def _notification_of(account_id: int, period_start: Any) -> int:
    from models import Meter, Notification, NotificationKind

    meter, _ = await Meter.get_or_create(
        code="credits", defaults={"name": "Credits", "unit": "credit"}
    )
    note = await Notification.create(
        account_id=account_id,
        kind=NotificationKind.USAGE_THRESHOLD,
        meter=meter,
        period_start=period_start,
        threshold=80,
        message="You have used 80%",
        created_at=NOW,
    )
    return note.id


async def test_node_hides_every_type(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    victim_account, victim = await billed_account(services, sandbox, provider)
    from models import Subscription

    subscription = await Subscription.get(account_id=victim_account.id)
    keys, _ = await _attacker(services, sandbox)
    note = await _notification_of(victim_account.id, subscription.current_period_start)
    ids = [*victim.values(), gid("Subscription", subscription.id), gid("Notification", note)]

    for key in keys.values():
        for node_id in ids:
            body = await gql(
                client, "query($id: ID!) { node(id: $id) { id } }", {"id": node_id}, key=key
            )

            assert body == {"data": {"node": None}}, (node_id, body)
