"""POST /usage/events: SERVICE keys only, up to 1,000 events of any accounts, one result each."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from models import ApiKeyRole, PlanTier, UsageEvent, UsagePeriodTotal
from services.auth import create_partner_key, create_service_key
from tests.conftest import NOW
from tests.factories import api_key
from tests.graphql.helpers import gid
from tests.usage.helpers import metered_account, used


async def _post(client: httpx.AsyncClient, key: str | None, body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return await client.post("/usage/events", json=body, headers=headers)


async def test_a_batch_of_several_accounts(client: httpx.AsyncClient) -> None:
    a, _ = await metered_account("a@example.test")
    b, _ = await metered_account("b@example.test", tier=PlanTier.FREE)
    key = await create_service_key(now=NOW)

    response = await _post(
        client,
        key,
        {
            "events": [
                {"id": "1", "account": gid("Account", a.id), "meter": "credits", "quantity": "2.5"},
                {"id": "1", "account": gid("Account", b.id), "meter": "credits", "quantity": 3},
                {"id": "1", "account": gid("Account", a.id), "meter": "credits", "quantity": "2.5"},
                {"id": "2", "account": gid("Invoice", a.id), "meter": "credits", "quantity": 1},
                {
                    "id": "3",
                    "account": gid("Account", a.id),
                    "meter": "credits",
                    "quantity": 1,
                    "timestamp": "yesterday",
                },
                {
                    "id": "4",
                    "account": gid("Account", a.id),
                    "meter": "credits",
                    "quantity": 1,
                    "timestamp": "2026-11-22T11:59:00Z",
                },
                "junk",
            ]
        },
    )

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"id": "1", "status": "ACCEPTED", "reason": None},
        {"id": "1", "status": "ACCEPTED", "reason": None},
        {"id": "1", "status": "DUPLICATE", "reason": None},
        {"id": "2", "status": "REJECTED", "reason": "unknown account"},
        {"id": "3", "status": "REJECTED", "reason": "timestamp is not an ISO 8601 date-time"},
        {"id": "4", "status": "ACCEPTED", "reason": None},
        {"id": "", "status": "REJECTED", "reason": "id is required"},
    ]
    assert (await used(a), await used(b)) == (Decimal("3.5"), Decimal(3))


@pytest.mark.parametrize("role", ["admin", "viewer", "partner"])
async def test_customer_and_partner_keys_are_forbidden(
    client: httpx.AsyncClient, role: str
) -> None:
    account, _ = await metered_account()
    if role == "partner":
        key = await create_partner_key(
            account_emails=[account.email], writable_emails=[account.email], now=NOW
        )
    else:
        key = await api_key(account, ApiKeyRole(role))
    event = {"id": "1", "account": gid("Account", account.id), "meter": "credits", "quantity": 1}

    response = await _post(client, key, {"events": [event]})

    assert response.status_code == 403
    assert await UsageEvent.all().count() == 0


async def test_no_or_a_wrong_key_is_unauthenticated(client: httpx.AsyncClient) -> None:
    assert (await _post(client, None, {"events": []})).status_code == 401
    assert (await _post(client, "bgw_nope_nope", {"events": []})).status_code == 401


@pytest.mark.parametrize("body", [[], {"events": {}}, {"events": None}, {"evts": []}, "x"])
async def test_a_malformed_body_is_400(client: httpx.AsyncClient, body: Any) -> None:
    key = await create_service_key(now=NOW)

    response = await _post(client, key, body)

    assert response.status_code == 400


async def test_json_nested_too_deep_is_400_not_500(client: httpx.AsyncClient) -> None:
    key = await create_service_key(now=NOW)
    body = '{"events": ' + "[" * 5000 + "]" * 5000 + "}"  # json.loads: RecursionError

    response = await client.post(
        "/usage/events", content=body, headers={"Authorization": f"Bearer {key}"}
    )

    assert response.status_code == 400
    assert await UsageEvent.all().count() == 0


async def test_more_than_1000_events_are_refused_whole(client: httpx.AsyncClient) -> None:
    account, _ = await metered_account()
    key = await create_service_key(now=NOW)
    events = [
        {"id": str(n), "account": gid("Account", account.id), "meter": "credits", "quantity": 1}
        for n in range(1001)
    ]

    response = await _post(client, key, {"events": events})

    assert response.status_code == 400
    assert await UsageEvent.all().count() == 0
    assert await UsagePeriodTotal.all().count() == 0
    response = await _post(client, key, {"events": events[:1000]})
    assert response.status_code == 200
    assert await used(account) == 1000
