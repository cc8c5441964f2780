"""The usage contract over GraphQL: reportUsage (SERVICE keys), the Account usage fields,
updateOverageSettings and updateUsageNotifications; reads cost the same at any volume."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from models import ApiKeyRole, Notification, PlanTier, UsageEvent, UsagePeriodTotal
from services.auth import create_partner_key, create_service_key
from services.context import ServiceContext
from tests.conftest import NOW
from tests.factories import api_key, gql
from tests.graphql.helpers import gid
from tests.sql_counter import count_statements
from tests.usage.helpers import event, metered_account, report

ERROR = "__typename ... on UserError { code message field }"
REPORT = f"""
mutation($input: ReportUsageInput!) {{
  reportUsage(input: $input) {{
    {ERROR}
    ... on ReportUsageSuccess {{
      results {{ id status reason }}
      usage {{ periodStart periodEnd overageAmount {{ amount }}
        meters {{ meter {{ code }} used included remaining percentUsed overageQuantity allowed }} }}
    }}
  }}
}}"""
PAGE = """
query {
  viewer { account {
    usage { periodStart periodEnd overageAmount { formatted }
      meters { meter { code name unit } used included remaining percentUsed
               overageQuantity overageAmount { amount } allowed } }
    overage { available enabled monthlyCap { amount } capReached }
    usageNotifications { thresholds email }
    notifications(first: 5) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id kind message threshold meter { code } createdAt } } }
    subscription { plan { allowances { meter { code } included overageUnitPrice { amount } } } }
  } }
}"""
OVERAGE = f"""
mutation($input: UpdateOverageSettingsInput!) {{
  updateOverageSettings(input: $input) {{
    {ERROR}
    ... on UpdateOverageSettingsSuccess {{ overage {{ enabled monthlyCap {{ amount }} }}
      usage {{ overageAmount {{ amount }} }} }}
  }}
}}"""
NOTIFY = f"""
mutation($input: UpdateUsageNotificationsInput!) {{
  updateUsageNotifications(input: $input) {{
    {ERROR}
    ... on UpdateUsageNotificationsSuccess {{ usageNotifications {{ thresholds email }} }}
  }}
}}"""


async def _service_key() -> str:
    return await create_service_key(now=NOW, label="test")


def _events(*rows: tuple[str, Any]) -> list[dict[str, Any]]:
    return [{"id": i, "meter": "credits", "quantity": q} for i, q in rows]


async def test_a_service_key_reports_usage_and_reads_it_back(
    client: httpx.AsyncClient, services: ServiceContext
) -> None:
    account, _ = await metered_account()
    key = await _service_key()

    body = await gql(
        client,
        REPORT,
        {
            "input": {
                "accountId": gid("Account", account.id),
                "events": _events(("e1", "850"), ("e1", "850"), ("e2", "-1"), ("e3", "x")),
            }
        },
        key=key,
    )

    result = body["data"]["reportUsage"]
    assert result["__typename"] == "ReportUsageSuccess"
    assert result["results"] == [
        {"id": "e1", "status": "ACCEPTED", "reason": None},
        {"id": "e1", "status": "DUPLICATE", "reason": None},
        {"id": "e2", "status": "REJECTED", "reason": "quantity is negative"},
        {"id": "e3", "status": "REJECTED", "reason": "quantity is not a number"},
    ]
    (meter,) = result["usage"]["meters"]
    assert meter == {
        "meter": {"code": "credits"},
        "used": "850",
        "included": "1000",
        "remaining": "150",
        "percentUsed": 85.0,
        "overageQuantity": "0",
        "allowed": True,
    }


@pytest.mark.parametrize("role", [ApiKeyRole.ADMIN, ApiKeyRole.VIEWER, "partner"])
async def test_customer_and_partner_keys_cannot_report_usage(
    client: httpx.AsyncClient, role: ApiKeyRole | str
) -> None:
    account, _ = await metered_account()
    if role == "partner":
        key = await create_partner_key(
            account_emails=[account.email], writable_emails=[account.email], now=NOW
        )
    else:
        assert isinstance(role, ApiKeyRole)
        key = await api_key(account, role)

    body = await gql(
        client,
        REPORT,
        {"input": {"accountId": gid("Account", account.id), "events": _events(("e1", "5"))}},
        key=key,
    )

    assert body["data"]["reportUsage"]["code"] == "PERMISSION_DENIED"
    assert await UsageEvent.all().count() == 0
    assert await UsagePeriodTotal.all().count() == 0


async def test_a_service_key_reads_no_account(client: httpx.AsyncClient) -> None:
    account, _ = await metered_account()
    key = await _service_key()

    body = await gql(
        client,
        "query($id: ID!) { viewer { role account { id } accounts { totalCount } }"
        " account(id: $id) { id usage { overageAmount { amount } } } }",
        {"id": gid("Account", account.id)},
        key=key,
    )

    assert body["data"] == {
        "viewer": {"role": "SERVICE", "account": None, "accounts": {"totalCount": 0}},
        "account": None,
    }


async def test_report_usage_for_an_unknown_account_is_not_found(client: httpx.AsyncClient) -> None:
    key = await _service_key()

    body = await gql(
        client,
        REPORT,
        {"input": {"accountId": gid("Account", 999), "events": _events(("e1", "5"))}},
        key=key,
    )

    assert body["data"]["reportUsage"]["code"] == "NOT_FOUND"


async def test_the_billing_page_reads_usage_settings_and_notifications(
    client: httpx.AsyncClient, services: ServiceContext
) -> None:
    account, _ = await metered_account()
    await report(services, event(account, "e1", "850"))

    body = await gql(client, PAGE, key=await api_key(account, ApiKeyRole.VIEWER))

    page = body["data"]["viewer"]["account"]
    assert page["usage"]["meters"][0]["used"] == "850"
    assert page["usage"]["meters"][0]["overageAmount"] == {"amount": 0}
    assert page["overage"] == {
        "available": True,
        "enabled": False,
        "monthlyCap": None,
        "capReached": False,
    }
    assert page["usageNotifications"] == {"thresholds": [80, 90, 100], "email": True}
    (edge,) = page["notifications"]["edges"]
    assert edge["node"]["kind"] == "USAGE_THRESHOLD" and edge["node"]["threshold"] == 80
    assert edge["node"]["meter"] == {"code": "credits"}
    assert page["subscription"]["plan"]["allowances"] == [
        {"meter": {"code": "credits"}, "included": "1000", "overageUnitPrice": {"amount": 4}}
    ]
    # The notification is a Node of this account, and only of this account.
    node = await gql(
        client,
        "query($id: ID!) { node(id: $id) { id ... on Notification { kind } } }",
        {"id": edge["node"]["id"]},
        key=await api_key(account, ApiKeyRole.VIEWER),
    )
    assert node["data"]["node"]["kind"] == "USAGE_THRESHOLD"
    other, _ = await metered_account("mallory@example.test")
    node = await gql(
        client,
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": edge["node"]["id"]},
        key=await api_key(other, ApiKeyRole.ADMIN),
    )
    assert node["data"]["node"] is None


async def test_update_overage_settings(client: httpx.AsyncClient, services: ServiceContext) -> None:
    account, _ = await metered_account()
    admin = await api_key(account, ApiKeyRole.ADMIN)

    body = await gql(client, OVERAGE, {"input": {"enabled": True, "monthlyCap": 5000}}, key=admin)

    assert body["data"]["updateOverageSettings"]["overage"] == {
        "enabled": True,
        "monthlyCap": {"amount": 5000},
    }
    await report(services, event(account, "e1", "1100"))
    body = await gql(client, OVERAGE, {"input": {"enabled": True, "monthlyCap": 100}}, key=admin)
    assert body["data"]["updateOverageSettings"]["code"] == "INVALID_INPUT"
    assert body["data"]["updateOverageSettings"]["field"] == "monthlyCap"


@pytest.mark.parametrize(
    ("tier", "role", "code"),
    [
        (PlanTier.FREE, ApiKeyRole.ADMIN, "OVERAGE_NOT_AVAILABLE"),
        (PlanTier.ENTERPRISE, ApiKeyRole.ADMIN, "SELF_SERVICE_UNAVAILABLE"),
        (PlanTier.PLUS, ApiKeyRole.VIEWER, "PERMISSION_DENIED"),
    ],
)
async def test_update_overage_settings_refusals(
    client: httpx.AsyncClient, tier: PlanTier, role: ApiKeyRole, code: str
) -> None:
    account, _ = await metered_account(tier=tier)

    body = await gql(
        client, OVERAGE, {"input": {"enabled": True}}, key=await api_key(account, role)
    )

    assert body["data"]["updateOverageSettings"]["code"] == code


async def test_update_usage_notifications(client: httpx.AsyncClient) -> None:
    account, _ = await metered_account()
    admin = await api_key(account, ApiKeyRole.ADMIN)

    body = await gql(client, NOTIFY, {"input": {"thresholds": [95, 50], "email": False}}, key=admin)
    assert body["data"]["updateUsageNotifications"]["usageNotifications"] == {
        "thresholds": [50, 95],
        "email": False,
    }
    body = await gql(client, NOTIFY, {"input": {"thresholds": [0]}}, key=admin)
    assert body["data"]["updateUsageNotifications"]["code"] == "INVALID_INPUT"
    viewer = await api_key(account, ApiKeyRole.VIEWER)
    body = await gql(client, NOTIFY, {"input": {"email": True}}, key=viewer)
    assert body["data"]["updateUsageNotifications"]["code"] == "PERMISSION_DENIED"


def _data(statements: list[str]) -> list[str]:
    return [s for s in statements if '"api_key"' not in s]


async def test_reading_usage_costs_the_same_at_10_and_100000_events(
    client: httpx.AsyncClient, services: ServiceContext
) -> None:
    account, _ = await metered_account()
    key = await api_key(account, ApiKeyRole.VIEWER)
    await report(services, *[event(account, f"s{n}", "0.01") for n in range(10)])
    await gql(client, PAGE, key=key)  # the key's first use writes last_used_at once

    with count_statements() as small:
        first = await gql(client, PAGE, key=key)
    for batch in range(100):
        await report(services, *[event(account, f"b{batch}-{n}", "0.01") for n in range(1000)])
    assert await UsageEvent.filter(account_id=account.id).count() == 100_010
    with count_statements() as large:
        second = await gql(client, PAGE, key=key)

    assert first["data"]["viewer"]["account"]["usage"]["meters"][0]["used"] == "0.1"
    assert second["data"]["viewer"]["account"]["usage"]["meters"][0]["used"] == "1000.1"
    # The key is cached for 5 s: on a slow machine reporting 100,000 events outlasts it,
    # and authenticating again is not what this compares.
    assert len(_data(large)) == len(_data(small))
    assert not any("usage_event" in s for s in large)
    assert await Notification.filter(account_id=account.id).count() == 3  # 80, 90, 100 %


async def test_query_usage_for_a_service_key_and_the_account_itself(
    client: httpx.AsyncClient, services: ServiceContext
) -> None:
    account, _ = await metered_account(tier=PlanTier.FREE)
    await report(services, event(account, "e1", "50"))
    document = "query($id: ID!) { usage(accountId: $id) { meters { used allowed } } }"
    variables = {"id": gid("Account", account.id)}

    as_service = await gql(client, document, variables, key=await _service_key())
    as_owner = await gql(client, document, variables, key=await api_key(account, ApiKeyRole.VIEWER))
    other, _ = await metered_account("other@example.test")
    as_other = await gql(client, document, variables, key=await api_key(other))

    expected = {"usage": {"meters": [{"used": "50", "allowed": False}]}}
    assert as_service["data"] == expected and as_owner["data"] == expected
    assert as_other["data"] == {"usage": None}
