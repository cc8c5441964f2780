"""The plan-change, cancellation and card-edit mutations over GraphQL, as a client uses them."""

from __future__ import annotations

from typing import Any

import aiohttp
import httpx
import pytest

from gateway.sandbox import Sandbox
from models import Invoice, InvoiceStatus, PaymentMethod, Subscription
from services.context import ServiceContext
from services.provider.recording import RecordingProvider
from tests.factories import DECLINING_CARD, add_card, api_key, gql, make_account, subscribe
from tests.graphql.helpers import gid
from tests.plan_change_helpers import Catalogue, all_rows, catalogue

PREVIEW = """
mutation($plan: ID!) {
  previewPlanChange(input: {planId: $plan}) {
    __typename
    ... on PreviewPlanChangeSuccess { preview {
      plan { code } timing quoteId expiresAt effectiveAt nextBillingDate
      amountDueNow { amount formatted } nextBillingAmount { amount }
      lines { description quantity unitAmount { amount } amount { amount formatted } }
    } }
    ... on UserError { code message field }
  }
}
"""
CHANGE = """
mutation($plan: ID!, $quote: String!, $key: String) {
  changePlan(input: {planId: $plan, quoteId: $quote, idempotencyKey: $key}) {
    __typename
    ... on ChangePlanSuccess {
      subscription { plan { code } pendingChange { plan { code } effectiveAt } nextBillingDate }
      invoice { status total { amount } lines { description amount { amount } } }
      payment { status amount { amount } }
    }
    ... on PaymentDeclinedError { code declined: payment { status } }
    ... on UserError { code message field }
  }
}
"""
SUBSCRIPTION = """
  __typename
  ... on SubscriptionChangeSuccess { subscription {
    cancelAtPeriodEnd cancellationReason nextBillingDate paidFeaturesEnabled
    pendingChange { plan { code } }
  } }
  ... on UserError { code message field }
"""
CANCEL = f"""
mutation($reason: CancellationReason!, $comment: String) {{
  cancelSubscription(input: {{reason: $reason, comment: $comment}}) {{ {SUBSCRIPTION} }}
}}"""
RESUME = f"mutation {{ resumeSubscription(input: {{}}) {{ {SUBSCRIPTION} }} }}"
CANCEL_PENDING = f"mutation {{ cancelPendingPlanChange(input: {{}}) {{ {SUBSCRIPTION} }} }}"
UPDATE_CARD = """
mutation($pm: ID!, $month: Int, $year: Int, $address: AddressInput) {
  updatePaymentMethod(input: {paymentMethodId: $pm, expMonth: $month, expYear: $year,
                              billingAddress: $address}) {
    __typename
    ... on UpdatePaymentMethodSuccess { paymentMethod {
      expMonth expYear status billingAddress { city country }
    } }
    ... on UserError { code message field }
  }
}
"""


@pytest.fixture
async def plans(db: str) -> Catalogue:
    return await catalogue()


async def _customer(
    services: ServiceContext, sandbox: Sandbox, number: str = "4242424242424242"
) -> tuple[str, Subscription, PaymentMethod]:
    account = await make_account()
    sub = await subscribe(account)
    pm = await add_card(services, sandbox, account, number)
    return await api_key(account), sub, pm


async def test_preview_then_change_plan(
    client: httpx.AsyncClient, services, sandbox, provider: RecordingProvider, plans
) -> None:
    key, _, _ = await _customer(services, sandbox)
    plan = gid("Plan", plans.plus_5k.id)

    preview = (await gql(client, PREVIEW, {"plan": plan}, key=key))["data"]["previewPlanChange"]

    assert preview["__typename"] == "PreviewPlanChangeSuccess", preview
    p = preview["preview"]
    assert (p["plan"]["code"], p["timing"]) == ("plus-5k", "IMMEDIATE")
    assert p["amountDueNow"] == {"amount": 4667, "formatted": "$46.67"}
    assert [line["amount"]["amount"] for line in p["lines"]] == [-1933, 6600]
    assert p["nextBillingAmount"] == {"amount": 9900}
    assert p["quoteId"].startswith("qt_")

    body = await gql(client, CHANGE, {"plan": plan, "quote": p["quoteId"], "key": "k1"}, key=key)

    assert "data" in body, body
    result = body["data"]["changePlan"]
    assert result["__typename"] == "ChangePlanSuccess", result
    assert result["subscription"]["plan"]["code"] == "plus-5k"
    assert result["invoice"]["status"] == "PAID"
    assert result["invoice"]["total"] == {"amount": p["amountDueNow"]["amount"]}
    assert [
        (line["description"], line["amount"]["amount"]) for line in result["invoice"]["lines"]
    ] == [(line["description"], line["amount"]["amount"]) for line in p["lines"]]
    assert result["payment"] == {"status": "SUCCEEDED", "amount": {"amount": 4667}}

    again = await gql(client, CHANGE, {"plan": plan, "quote": p["quoteId"]}, key=key)
    assert again["data"]["changePlan"]["code"] == "INVALID_INPUT"  # already on Plus 5K
    assert len(provider.calls_to("charge")) == 1


async def test_declined_upgrade_answers_payment_declined(
    client: httpx.AsyncClient, services, sandbox, provider, plans
) -> None:
    key, sub, _ = await _customer(services, sandbox, DECLINING_CARD)
    plan = gid("Plan", plans.plus_5k.id)
    quote = (await gql(client, PREVIEW, {"plan": plan}, key=key))["data"]["previewPlanChange"]

    body = await gql(client, CHANGE, {"plan": plan, "quote": quote["preview"]["quoteId"]}, key=key)

    result = body["data"]["changePlan"]
    assert result == {
        "__typename": "PaymentDeclinedError",
        "code": "PAYMENT_DECLINED",
        "declined": {"status": "FAILED"},
        "message": result["message"],
        "field": None,
    }
    assert (await Subscription.get(id=sub.id)).plan_id == plans.plus.id
    assert [i.status for i in await Invoice.all()] == [InvoiceStatus.VOID]


async def test_downgrade_shows_as_pending_and_can_be_undone(
    client: httpx.AsyncClient, services, sandbox, provider, plans
) -> None:
    key, sub, _ = await _customer(services, sandbox)
    plan = gid("Plan", plans.free.id)
    preview = (await gql(client, PREVIEW, {"plan": plan}, key=key))["data"]["previewPlanChange"]
    p = preview["preview"]
    assert (p["timing"], p["lines"], p["amountDueNow"]["amount"]) == ("PERIOD_END", [], 0)
    assert p["effectiveAt"] == sub.current_period_end.isoformat()
    assert p["nextBillingDate"] is None  # Free: no more bills

    body = await gql(client, CHANGE, {"plan": plan, "quote": p["quoteId"]}, key=key)

    result = body["data"]["changePlan"]
    assert result["invoice"] is None and result["payment"] is None
    assert result["subscription"]["pendingChange"] == {
        "plan": {"code": "free-monthly"},
        "effectiveAt": sub.current_period_end.isoformat(),
    }
    assert result["subscription"]["nextBillingDate"] is None
    undone = (await gql(client, CANCEL_PENDING, key=key))["data"]["cancelPendingPlanChange"]
    assert undone["subscription"]["pendingChange"] is None
    assert undone["subscription"]["nextBillingDate"] is not None


async def test_cancel_at_period_end_then_resume(
    client: httpx.AsyncClient, services, sandbox, provider, plans
) -> None:
    key, sub, _ = await _customer(services, sandbox)

    body = await gql(client, CANCEL, {"reason": "TOO_EXPENSIVE", "comment": " pricey "}, key=key)

    canceled = body["data"]["cancelSubscription"]["subscription"]
    assert canceled == {
        "cancelAtPeriodEnd": True,
        "cancellationReason": "TOO_EXPENSIVE",
        "nextBillingDate": None,
        "paidFeaturesEnabled": True,  # until the period end
        "pendingChange": None,
    }
    assert (await Subscription.get(id=sub.id)).cancellation_comment == "pricey"
    resumed = (await gql(client, RESUME, key=key))["data"]["resumeSubscription"]["subscription"]
    assert resumed["cancelAtPeriodEnd"] is False and resumed["cancellationReason"] is None
    assert provider.calls_to("charge") == []


async def test_cancel_on_free_is_not_allowed(client: httpx.AsyncClient, db, plans) -> None:
    from models import PlanTier

    account = await make_account(tier=PlanTier.FREE)
    await Subscription.create(
        account=account,
        plan=plans.free,
        status="ACTIVE",
        current_period_start=account.created_at,
        current_period_end=account.created_at,
        created_at=account.created_at,
    )
    key = await api_key(account)

    body = await gql(client, CANCEL, {"reason": "UNUSED"}, key=key)

    assert body["data"]["cancelSubscription"]["code"] == "PLAN_CHANGE_NOT_ALLOWED"


async def _sandbox_card(sandbox: Sandbox, pm_id: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {sandbox.secret_key}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sandbox.api_base}/v1/payment_methods/{pm_id}", headers=headers) as resp,
    ):
        body: dict[str, Any] = await resp.json(content_type=None)
        return body


async def test_an_expired_card_given_a_future_expiry_is_active_again(
    client: httpx.AsyncClient, services, sandbox, provider, plans
) -> None:
    key, _, pm = await _customer(services, sandbox)
    await PaymentMethod.filter(id=pm.id).update(exp_month=1, exp_year=2025)  # it ran out
    provider.reset()

    body = await gql(
        client,
        UPDATE_CARD,
        {
            "pm": gid("PaymentMethod", pm.id),
            "month": 3,
            "year": 2031,
            "address": {"city": "Berlin", "country": "de"},
        },
        key=key,
    )

    assert body["data"]["updatePaymentMethod"] == {
        "__typename": "UpdatePaymentMethodSuccess",
        "paymentMethod": {
            "expMonth": 3,
            "expYear": 2031,
            "status": "ACTIVE",
            "billingAddress": {"city": "Berlin", "country": "DE"},
        },
    }
    assert provider.names() == ["update_payment_method"]
    at_provider = await _sandbox_card(sandbox, pm.provider_id)
    assert int(at_provider["card"]["exp_year"]) == 2031
    assert at_provider["card"]["last4"] == "4242"  # the sandbox kept the card's details
    assert at_provider["billing_details"]["address"]["country"] == "DE"


async def test_an_address_only_edit_of_an_expired_card_asks_for_a_new_expiry(
    client: httpx.AsyncClient, services, sandbox, provider, plans
) -> None:
    key, _, pm = await _customer(services, sandbox)
    await PaymentMethod.filter(id=pm.id).update(exp_month=1, exp_year=2025)  # it ran out
    before = await all_rows()
    provider.reset()

    body = await gql(
        client,
        UPDATE_CARD,
        {"pm": gid("PaymentMethod", pm.id), "address": {"city": "Berlin"}},
        key=key,
    )

    result = body["data"]["updatePaymentMethod"]
    assert (result["code"], result["field"]) == ("INVALID_INPUT", "expMonth")
    assert "This card expired in 01/2025" in result["message"]  # not "the date you gave"
    assert provider.calls == [] and await all_rows() == before


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"month": 13, "year": 2031}, "expMonth"),
        ({"month": 0}, "expMonth"),
        ({"month": 10, "year": 2026}, "expYear"),  # October 2026 is before November 2026
        ({"year": 1999}, "expYear"),
        ({"address": {"country": "XX"}}, "billingAddress.country"),
        ({"address": {"country": "Germany"}}, "billingAddress.country"),
        ({}, "paymentMethodId"),
        ({"address": {}}, "billingAddress"),  # would erase the stored address
        ({"month": 3, "year": 2031, "address": {"city": "  "}}, "billingAddress"),
    ],
)
async def test_bad_card_edits_are_invalid_input_and_change_nothing(
    client: httpx.AsyncClient, services, sandbox, provider, plans, variables, field
) -> None:
    key, _, pm = await _customer(services, sandbox)
    before = await all_rows()
    provider.reset()

    body = await gql(client, UPDATE_CARD, {"pm": gid("PaymentMethod", pm.id), **variables}, key=key)

    result = body["data"]["updatePaymentMethod"]
    assert (result["code"], result["field"]) == ("INVALID_INPUT", field), result
    assert provider.calls == []
    assert await all_rows() == before
