"""Enterprise accounts: no self-service billing changes, reads still work."""

from __future__ import annotations

import httpx
import pytest

from gateway.sandbox import Sandbox
from models import Account, PlanTier
from services.context import ServiceContext
from services.provider.recording import RecordingProvider
from tests.factories import api_key, gql
from tests.graphql.helpers import ALL_MUTATIONS, billed_account, db_state

BILLING_PAGE = """
query {
  viewer { account {
    tier selfServiceEnabled
    paymentMethods { last4 }
    invoices { totalCount }
    outstandingBalance { formatted }
  } }
}
"""


@pytest.mark.parametrize("mutation", sorted(ALL_MUTATIONS))
async def test_every_billing_mutation_is_self_service_unavailable(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
    mutation: str,
) -> None:
    # given an account with cards, invoices and a payment, now moved to Enterprise
    account, ids = await billed_account(services, sandbox, provider)
    await Account.filter(id=account.id).update(tier=PlanTier.ENTERPRISE)
    key = await api_key(account)
    before = await db_state()

    # when its admin tries a billing change
    body = await gql(client, ALL_MUTATIONS[mutation], ids, key=key)

    # then it is refused with the way to the sales team, and nothing happened
    assert "errors" not in body, body
    result = body["data"][mutation]
    assert result["__typename"] == "SelfServiceUnavailableError"
    assert result["code"] == "SELF_SERVICE_UNAVAILABLE"
    assert "sales representative" in result["message"]
    assert provider.calls == []
    assert await db_state() == before


async def test_enterprise_reads_still_work(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    account, _ = await billed_account(services, sandbox, provider)
    await Account.filter(id=account.id).update(tier=PlanTier.ENTERPRISE)
    key = await api_key(account)

    body = await gql(client, BILLING_PAGE, key=key)

    assert body == {
        "data": {
            "viewer": {
                "account": {
                    "tier": "ENTERPRISE",
                    "selfServiceEnabled": False,
                    "paymentMethods": [{"last4": "4242"}, {"last4": "3184"}],
                    "invoices": {"totalCount": 2},
                    "outstandingBalance": {"formatted": "$29.00"},
                }
            }
        }
    }
