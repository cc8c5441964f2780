"""The billing page: one query for plan, cards, billing info, history and balance."""

from __future__ import annotations

import base64
from datetime import timedelta

import httpx
import pytest

from gateway.sandbox import Sandbox
from models import Account, InvoiceStatus, Plan, PlanTier
from services import payments
from services.context import ServiceContext
from tests.conftest import NOW
from tests.factories import (
    add_card,
    admin_of,
    api_key,
    gql,
    make_account,
    make_invoice,
    make_plan,
    subscribe,
)
from tests.graphql.helpers import gid

BILLING_PAGE = """
query BillingPage($first: Int) {
  viewer {
    account {
      id name tier selfServiceEnabled
      subscription {
        status paidFeaturesEnabled nextBillingDate
        nextBillingAmount { amount currency formatted }
        plan { code name price { formatted } interval }
      }
      paymentMethods { id brand last4 expMonth expYear isDefault status }
      defaultPaymentMethod { id last4 }
      billingInfo { name email taxId address { line1 city country } }
      invoices(first: $first) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges {
          cursor
          node {
            number status
            total { amount formatted }
            amountDue { amount }
            lines { description quantity unitAmount { amount } amount { formatted } }
            payments { status paymentMethod { last4 } }
            billingInfo { name }
          }
        }
      }
      outstandingBalance { amount currency formatted }
    }
  }
}
"""

INVOICES = """
query Invoices($first: Int, $after: String, $status: [InvoiceStatus!]) {
  viewer {
    account {
      invoices(first: $first, after: $after, status: $status) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor node { number status } }
      }
    }
  }
}
"""

NODE = """
query Node($id: ID!) { node(id: $id) { __typename id } }
"""

PLANS = """
query { plans { id code name tier interval price { amount currency formatted } } }
"""

PAYMENT_PROVIDER = """
query { paymentProvider { name publishableKey jsUrl } }
"""


async def _history(account: Account, count: int) -> list[str]:
    """`count` monthly invoices, oldest first; the newest is open, the others paid."""
    numbers = []
    for i in range(count):
        status = InvoiceStatus.OPEN if i == count - 1 else InvoiceStatus.PAID
        start = NOW - timedelta(days=30 * (count - i))
        invoice = await make_invoice(account, status=status, period_start=start)
        numbers.append(invoice.number)
    return numbers


async def test_billing_page_shows_everything(
    client: httpx.AsyncClient, sandbox: Sandbox, services: ServiceContext
) -> None:
    # given a PLUS account with two cards, a paid and an open invoice
    account = await make_account()
    sub = await subscribe(account)
    first_card = await add_card(services, sandbox, account)
    await add_card(services, sandbox, account, "4000000000000341", exp_year=2031)
    paid = await make_invoice(account, subscription=sub, period_start=NOW - timedelta(days=40))
    await payments.pay_invoice(services, admin_of(account), paid.id)
    open_invoice = await make_invoice(account, subscription=sub)
    key = await api_key(account)

    # when
    body = await gql(client, BILLING_PAGE, {"first": 10}, key=key)

    # then
    assert "errors" not in body, body
    page = body["data"]["viewer"]["account"]
    assert page["id"] == gid("Account", account.id)
    assert (page["tier"], page["selfServiceEnabled"]) == ("PLUS", True)
    assert page["subscription"] == {
        "status": "ACTIVE",
        "paidFeaturesEnabled": True,
        "nextBillingDate": (NOW + timedelta(days=20)).isoformat(),
        "nextBillingAmount": {"amount": 2900, "currency": "USD", "formatted": "$29.00"},
        "plan": {
            "code": "plus-monthly",
            "name": "Plus monthly",
            "price": {"formatted": "$29.00"},
            "interval": "MONTH",
        },
    }
    assert [(c["last4"], c["isDefault"], c["status"]) for c in page["paymentMethods"]] == [
        ("4242", True, "ACTIVE"),
        ("0341", False, "ACTIVE"),
    ]
    assert page["defaultPaymentMethod"] == {
        "id": gid("PaymentMethod", first_card.id),
        "last4": "4242",
    }
    assert page["billingInfo"] == {
        "name": "Alice Ltd",
        "email": "alice@example.test",
        "taxId": None,
        "address": None,
    }
    invoices = page["invoices"]
    assert invoices["totalCount"] == 2
    assert invoices["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": invoices["edges"][-1]["cursor"],
    }
    newest, oldest = (edge["node"] for edge in invoices["edges"])
    assert (newest["number"], newest["status"]) == (open_invoice.number, "OPEN")
    assert (oldest["number"], oldest["status"]) == (paid.number, "PAID")
    assert newest["total"] == {"amount": 2900, "formatted": "$29.00"}
    assert newest["lines"] == [
        {
            "description": "Plus plan, monthly",
            "quantity": 1,
            "unitAmount": {"amount": 2900},
            "amount": {"formatted": "$29.00"},
        }
    ]
    assert newest["payments"] == []
    assert oldest["payments"] == [{"status": "SUCCEEDED", "paymentMethod": {"last4": "4242"}}]
    assert oldest["amountDue"] == {"amount": 0}
    assert newest["billingInfo"] == {"name": "Alice Ltd"}
    assert page["outstandingBalance"] == {"amount": 2900, "currency": "USD", "formatted": "$29.00"}


async def test_free_account_without_cards_or_history(client: httpx.AsyncClient, db: str) -> None:
    account = await make_account(tier=PlanTier.FREE)
    key = await api_key(account)

    body = await gql(client, BILLING_PAGE, key=key)

    page = body["data"]["viewer"]["account"]
    assert page["subscription"] is None
    assert page["paymentMethods"] == []
    assert page["defaultPaymentMethod"] is None
    assert page["invoices"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": [],
    }
    assert page["outstandingBalance"] == {"amount": 0, "currency": "USD", "formatted": "$0.00"}


async def test_invoices_newest_first_and_paged_with_after(
    client: httpx.AsyncClient, db: str
) -> None:
    # given five months of history
    account = await make_account()
    numbers = await _history(account, 5)
    key = await api_key(account)

    # when the client reads two at a time
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        body = await gql(client, INVOICES, {"first": 2, "after": after}, key=key)
        connection = body["data"]["viewer"]["account"]["invoices"]
        assert connection["totalCount"] == 5
        seen += [edge["node"]["number"] for edge in connection["edges"]]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    # then every invoice shows once, newest first
    assert pages == 3
    assert seen == list(reversed(numbers))


async def test_status_filter(client: httpx.AsyncClient, db: str) -> None:
    account = await make_account()
    numbers = await _history(account, 3)
    key = await api_key(account)

    body = await gql(client, INVOICES, {"status": ["OPEN"]}, key=key)

    connection = body["data"]["viewer"]["account"]["invoices"]
    assert connection["totalCount"] == 1
    assert [e["node"] for e in connection["edges"]] == [{"number": numbers[-1], "status": "OPEN"}]


async def test_drafts_hidden_unless_asked_for(client: httpx.AsyncClient, db: str) -> None:
    # given an issued invoice and a draft
    account = await make_account()
    issued = await make_invoice(account, period_start=NOW - timedelta(days=40))
    draft = await make_invoice(account, status=InvoiceStatus.DRAFT)
    key = await api_key(account)

    default = await gql(client, INVOICES, key=key)
    drafts = await gql(client, INVOICES, {"status": ["DRAFT"]}, key=key)

    assert [
        e["node"]["number"] for e in default["data"]["viewer"]["account"]["invoices"]["edges"]
    ] == [issued.number]
    assert [e["node"] for e in drafts["data"]["viewer"]["account"]["invoices"]["edges"]] == [
        {"number": f"DRAFT-{draft.id}", "status": "DRAFT"}
    ]


@pytest.mark.parametrize(
    ("variables", "field", "message"),
    [
        # (first above 100 is refused before execution: tests/security/test_query_limits.py)
        ({"first": -1}, "first", "first must be between 0 and 100."),
        ({"after": "not-a-cursor"}, "after", "Invalid cursor."),
    ],
)
async def test_bad_page_arguments_are_coded_errors(
    client: httpx.AsyncClient, db: str, variables: dict[str, object], field: str, message: str
) -> None:
    account = await make_account()
    await _history(account, 1)
    key = await api_key(account)

    body = await gql(client, INVOICES, variables, key=key)

    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["message"] == message
    assert error["extensions"] == {"code": "INVALID_INPUT", "field": field}
    assert error["path"] == ["viewer", "account", "invoices"]


async def test_node_round_trip_for_every_node_type(
    client: httpx.AsyncClient, sandbox: Sandbox, services: ServiceContext
) -> None:
    # given one object of each Node type
    account = await make_account()
    sub = await subscribe(account)
    card = await add_card(services, sandbox, account)
    invoice = await make_invoice(account, subscription=sub)
    _, payment = await payments.pay_invoice(services, admin_of(account), invoice.id)
    plan = await Plan.get(id=sub.plan_id)  # type: ignore[attr-defined]
    key = await api_key(account)
    objects = {
        "Account": account.id,
        "Subscription": sub.id,
        "Plan": plan.id,
        "PaymentMethod": card.id,
        "Invoice": invoice.id,
        "Payment": payment.id,
    }

    for type_name, pk in objects.items():
        # when the ID is resolved back
        body = await gql(client, NODE, {"id": gid(type_name, pk)}, key=key)

        # then it is the same object
        assert body == {"data": {"node": {"__typename": type_name, "id": gid(type_name, pk)}}}


@pytest.mark.parametrize(
    "bad_id",
    [
        "garbage",
        "",
        gid("Nope", 1),
        gid("Invoice", 999_999),
        gid("Invoice", 2**63),
        gid("Plan", 2**31),
        gid("Account", 0),
    ],
)
async def test_node_with_unknown_id_is_null(
    client: httpx.AsyncClient, db: str, bad_id: str
) -> None:
    key = await api_key(await make_account())

    assert await gql(client, NODE, {"id": bad_id}, key=key) == {"data": {"node": None}}


async def test_plans_cheapest_first(client: httpx.AsyncClient, db: str) -> None:
    await make_plan(PlanTier.PLUS, 2900)
    await make_plan(PlanTier.FREE, 0)
    key = await api_key(await make_account())

    body = await gql(client, PLANS, key=key)

    assert [(p["code"], p["tier"], p["price"]) for p in body["data"]["plans"]] == [
        ("free-monthly", "FREE", {"amount": 0, "currency": "USD", "formatted": "$0.00"}),
        ("plus-monthly", "PLUS", {"amount": 2900, "currency": "USD", "formatted": "$29.00"}),
    ]


async def test_payment_provider_config(
    client: httpx.AsyncClient, sandbox: Sandbox, db: str
) -> None:
    key = await api_key(await make_account())

    body = await gql(client, PAYMENT_PROVIDER, key=key)

    config = body["data"]["paymentProvider"]
    assert config["publishableKey"] == sandbox.publishable_key
    assert config["publishableKey"].startswith("pk_")
    assert config["jsUrl"] == sandbox.js_url
    assert config["name"]


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    "after",
    [
        _cursor("not a date|1"),
        _cursor(f"{NOW.isoformat()}|x"),
        _cursor(f"{NOW.isoformat()}|{2**63}"),  # would overflow the key column
        _cursor(f"{NOW.isoformat()}|-5"),
        _cursor("2026-11-22T12:00:00|1"),  # no time zone
    ],
)
async def test_tampered_invoice_cursor_is_invalid_input(
    client: httpx.AsyncClient, db: str, after: str
) -> None:
    account = await make_account()
    await _history(account, 2)
    key = await api_key(account)

    body = await gql(client, INVOICES, {"after": after}, key=key)

    assert [e.get("extensions") for e in body.get("errors", [])] == [
        {"code": "INVALID_INPUT", "field": "after"}
    ], body
