"""Every state-changing mutation writes its billing events, exactly one per change, found
from the schema: a new mutation fails `test_every_mutation_is_covered` until it has a
case here (what it writes) or an entry in NO_BILLING_CHANGE (why it writes none)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from gateway.sandbox import Sandbox
from models import BillingEvent, Invoice, Payment, PaymentMethod
from schema import schema
from services import payments
from services.context import ServiceContext
from services.provider.recording import RecordingProvider
from tests.factories import (
    DECLINING_CARD,
    THREE_DS_CARD,
    add_card,
    admin_of,
    api_key,
    gql,
    make_account,
    make_invoice,
    subscribe,
)
from tests.graphql.helpers import gid
from tests.sandbox_browser import create_card_payment_method

_ERR = "__typename ... on UserError { code message }"

#: Mutations that change no billing state, so they announce nothing, and why.
NO_BILLING_CHANGE = {
    "startPaymentMethodSetup": "creates a SetupIntent at the provider; nothing is stored",
    "previewPlanChange": "writes only a quote; nothing changes until changePlan",
    "createWebhookEndpoint": "configures delivery; not a change to the account's billing",
    "rotateWebhookSecret": "configures delivery; not a change to the account's billing",
    "deleteWebhookEndpoint": "configures delivery; not a change to the account's billing",
    "reportUsage": "usage is metered, not announced; a crossed threshold is "
    "(USAGE_THRESHOLD_REACHED, written by services/usage)",
    "updateOverageSettings": "a usage setting: no billing event type announces it yet",
    "updateUsageNotifications": "a usage setting: no billing event type announces it yet",
}

#: Mutations of features still landing whose services do not append events yet; each
#: needs a case in CASES once they do.
NOT_WIRED_YET: set[str] = set()

Setup = Callable[..., Awaitable[tuple[str, dict[str, Any], str, Counter[str]]]]
CASES: dict[str, Setup] = {}


def case(name: str) -> Callable[[Setup], Setup]:
    def register(fn: Setup) -> Setup:
        CASES[name] = fn
        return fn

    return register


@case("addPaymentMethod")
async def _add(services: ServiceContext, sandbox: Sandbox) -> Any:
    account = await make_account()
    token = await create_card_payment_method(sandbox, "4242424242424242")
    document = f"""mutation($t: String!) {{ addPaymentMethod(input: {{providerToken: $t}}) {{
        {_ERR} ... on AddPaymentMethodSuccess {{ paymentMethod {{ id }} }} }} }}"""
    expected = Counter(["PAYMENT_METHOD_ADDED", "DEFAULT_PAYMENT_METHOD_CHANGED"])
    return document, {"t": token}, await api_key(account), expected


@case("confirmPaymentMethod")
async def _confirm_card(services: ServiceContext, sandbox: Sandbox) -> Any:
    account = await make_account()
    await add_card(services, sandbox, account)
    pm = await add_card(services, sandbox, account, THREE_DS_CARD)
    assert pm.setup_intent_id is not None and pm.setup_client_secret is not None
    await _finish_setup(sandbox, pm.setup_intent_id, pm.setup_client_secret)
    document = f"""mutation($pm: ID!) {{ confirmPaymentMethod(input: {{paymentMethodId: $pm}})
        {{ {_ERR} ... on ConfirmPaymentMethodSuccess {{ paymentMethod {{ status }} }} }} }}"""
    expected = Counter(["PAYMENT_METHOD_UPDATED"])
    return document, {"pm": gid("PaymentMethod", pm.id)}, await api_key(account), expected


@case("makeDefault")
async def _make_default(services: ServiceContext, sandbox: Sandbox) -> Any:
    account = await make_account()
    await add_card(services, sandbox, account)
    second = await add_card(services, sandbox, account)
    document = f"""mutation($pm: ID!) {{ makeDefault(input: {{paymentMethodId: $pm}})
        {{ {_ERR} ... on MakeDefaultSuccess {{ account {{ id }} }} }} }}"""
    expected = Counter(["DEFAULT_PAYMENT_METHOD_CHANGED"])
    return document, {"pm": gid("PaymentMethod", second.id)}, await api_key(account), expected


@case("deletePaymentMethod")
async def _delete(services: ServiceContext, sandbox: Sandbox) -> Any:
    account = await make_account()
    await add_card(services, sandbox, account)
    second = await add_card(services, sandbox, account)
    document = f"""mutation($pm: ID!) {{ deletePaymentMethod(input: {{paymentMethodId: $pm}})
        {{ {_ERR} ... on DeletePaymentMethodSuccess {{ deletedPaymentMethodId }} }} }}"""
    expected = Counter(["PAYMENT_METHOD_REMOVED"])
    return document, {"pm": gid("PaymentMethod", second.id)}, await api_key(account), expected


@case("payInvoice")
async def _pay(services: ServiceContext, sandbox: Sandbox) -> Any:
    account = await make_account()
    sub = await subscribe(account)
    await add_card(services, sandbox, account)
    invoice = await make_invoice(account, subscription=sub)
    document = f"""mutation($inv: ID!) {{ payInvoice(input: {{invoiceId: $inv}})
        {{ {_ERR} ... on PayInvoiceSuccess {{ payment {{ status }} }} }} }}"""
    expected = Counter(["PAYMENT_SUCCEEDED", "INVOICE_PAID"])
    return document, {"inv": gid("Invoice", invoice.id)}, await api_key(account), expected


@case("confirmPayment")
async def _confirm_payment(services: ServiceContext, sandbox: Sandbox) -> Any:
    account = await make_account()
    sub = await subscribe(account)
    await add_card(services, sandbox, account, THREE_DS_CARD)
    pm = await PaymentMethod.get(account_id=account.id)
    assert pm.setup_intent_id is not None and pm.setup_client_secret is not None
    await _finish_setup(sandbox, pm.setup_intent_id, pm.setup_client_secret)
    await _confirm_card_directly(services, account, pm.id)
    invoice = await make_invoice(account, subscription=sub)
    payment = await _three_ds_payment(services, account, invoice)
    await _authenticate_payment(sandbox, payment)
    document = f"""mutation($pay: ID!) {{ confirmPayment(input: {{paymentId: $pay}})
        {{ {_ERR} ... on PayInvoiceSuccess {{ payment {{ status }} }} }} }}"""
    expected = Counter(["PAYMENT_SUCCEEDED", "INVOICE_PAID"])
    return document, {"pay": gid("Payment", payment.id)}, await api_key(account), expected


@case("updateBillingInfo")
async def _billing_info(services: ServiceContext, sandbox: Sandbox) -> Any:
    account = await make_account()
    document = f"""mutation {{ updateBillingInfo(input: {{name: "Acme GmbH"}})
        {{ {_ERR} ... on UpdateBillingInfoSuccess {{ account {{ id }} }} }} }}"""
    return document, {}, await api_key(account), Counter(["BILLING_INFO_UPDATED"])


async def _plans() -> Any:
    from tests.plan_change_helpers import catalogue

    return await catalogue()


async def _quote(services: ServiceContext, account: Any, plan_id: int) -> str:
    from services.plan_changes import preview_plan_change

    quote = await preview_plan_change(services, admin_of(account), None, plan_id)
    return quote.token


_CHANGE = f"""mutation($plan: ID!, $quote: String!) {{
    changePlan(input: {{planId: $plan, quoteId: $quote}})
    {{ {_ERR} ... on ChangePlanSuccess {{ subscription {{ id }} }} }} }}"""


@case("changePlan")
async def _upgrade(services: ServiceContext, sandbox: Sandbox) -> Any:
    plans = await _plans()
    account = await make_account()
    await subscribe(account)
    await add_card(services, sandbox, account)
    token = await _quote(services, account, plans.plus_5k.id)
    variables = {"plan": gid("Plan", plans.plus_5k.id), "quote": token}
    expected = Counter(
        ["INVOICE_CREATED", "PAYMENT_SUCCEEDED", "INVOICE_PAID", "SUBSCRIPTION_UPDATED"]
    )
    return _CHANGE, variables, await api_key(account), expected


@case("cancelSubscription")
async def _cancel(services: ServiceContext, sandbox: Sandbox) -> Any:
    account = await make_account()
    await subscribe(account)
    document = f"""mutation {{ cancelSubscription(input: {{reason: UNUSED}})
        {{ {_ERR} ... on SubscriptionChangeSuccess {{ subscription {{ id }} }} }} }}"""
    return document, {}, await api_key(account), Counter(["SUBSCRIPTION_UPDATED"])


@case("resumeSubscription")
async def _resume(services: ServiceContext, sandbox: Sandbox) -> Any:
    from models import CancellationReason
    from services.cancellation import cancel_subscription

    account = await make_account()
    await subscribe(account)
    await cancel_subscription(services, admin_of(account), None, CancellationReason.OTHER)
    document = f"""mutation {{ resumeSubscription(input: {{}})
        {{ {_ERR} ... on SubscriptionChangeSuccess {{ subscription {{ id }} }} }} }}"""
    return document, {}, await api_key(account), Counter(["SUBSCRIPTION_UPDATED"])


@case("cancelPendingPlanChange")
async def _keep_plan(services: ServiceContext, sandbox: Sandbox) -> Any:
    from services.plan_changes import change_plan

    plans = await _plans()
    account = await make_account()
    await subscribe(account)
    token = await _quote(services, account, plans.free.id)
    await change_plan(services, admin_of(account), None, plans.free.id, token)
    document = f"""mutation {{ cancelPendingPlanChange(input: {{}})
        {{ {_ERR} ... on SubscriptionChangeSuccess {{ subscription {{ id }} }} }} }}"""
    return document, {}, await api_key(account), Counter(["SUBSCRIPTION_UPDATED"])


@case("updatePaymentMethod")
async def _edit_card(services: ServiceContext, sandbox: Sandbox) -> Any:
    account = await make_account()
    pm = await add_card(services, sandbox, account)
    document = f"""mutation($pm: ID!) {{
        updatePaymentMethod(input: {{paymentMethodId: $pm, expMonth: 6, expYear: 2031}})
        {{ {_ERR} ... on UpdatePaymentMethodSuccess {{ paymentMethod {{ id }} }} }} }}"""
    expected = Counter(["PAYMENT_METHOD_UPDATED"])
    return document, {"pm": gid("PaymentMethod", pm.id)}, await api_key(account), expected


async def _finish_setup(sandbox: Sandbox, setup_intent_id: str, client_secret: str) -> None:
    """3-D Secure done in the browser: the sandbox confirms the SetupIntent again."""
    async with httpx.AsyncClient(base_url=sandbox.api_base) as http:
        response = await http.post(
            f"/v1/setup_intents/{setup_intent_id}/confirm",
            data={"client_secret": client_secret, "key": sandbox.publishable_key},
        )
        assert response.status_code == 200, response.text


async def _confirm_card_directly(services: ServiceContext, account: Any, pm_id: int) -> None:
    from services import card_setup

    await card_setup.confirm_payment_method(services, admin_of(account), pm_id)


async def _three_ds_payment(services: ServiceContext, account: Any, invoice: Invoice) -> Payment:
    try:
        _, payment = await payments.pay_invoice(services, admin_of(account), invoice.id)
    except Exception:
        payment = await Payment.get(invoice_id=invoice.id)
    return payment


async def _authenticate_payment(sandbox: Sandbox, payment: Payment) -> None:
    await payment.refresh_from_db()
    if payment.status.value != "REQUIRES_ACTION":
        pytest.skip("the sandbox did not ask for 3-D Secure on this charge")
    secret = (payment.next_action or {}).get("client_secret")
    async with httpx.AsyncClient(base_url=sandbox.api_base) as http:
        response = await http.post(
            f"/v1/payment_intents/{payment.provider_payment_id}/_authenticate",
            data={"client_secret": secret, "success": "true", "key": sandbox.publishable_key},
        )
        assert response.status_code == 200, response.text


def mutation_names() -> set[str]:
    mutation = schema._schema.mutation_type
    assert mutation is not None
    return set(mutation.fields)


def test_every_mutation_is_covered() -> None:
    names = mutation_names()
    covered = set(CASES) | set(NO_BILLING_CHANGE) | NOT_WIRED_YET
    assert not names - covered, f"mutations with no event case: {sorted(names - covered)}"
    assert not covered - names, f"cases for mutations that are gone: {sorted(covered - names)}"


@pytest.mark.parametrize("name", sorted(CASES))
async def test_a_mutation_writes_one_event_per_change(
    name: str,
    client: httpx.AsyncClient,
    services: ServiceContext,
    sandbox: Sandbox,
    provider: RecordingProvider,
) -> None:
    # given the state the mutation changes
    document, variables, key, expected = await CASES[name](services, sandbox)
    before = await BillingEvent.all().values_list("id", flat=True)

    # when it runs and succeeds
    body = await gql(client, document, variables, key=key)
    assert "errors" not in body, body
    (result,) = body["data"].values()
    assert "code" not in result, result

    # then exactly the expected events were appended, one per change
    written = await BillingEvent.exclude(id__in=list(before)).order_by("id")
    assert Counter(e.type for e in written) == expected, [e.type for e in written]


async def test_a_refused_mutation_writes_no_event(
    client: httpx.AsyncClient, services: ServiceContext, sandbox: Sandbox
) -> None:
    account = await make_account()
    await add_card(services, sandbox, account, DECLINING_CARD)
    only = await PaymentMethod.get(account_id=account.id)
    before = await BillingEvent.all().count()
    document = f"""mutation($pm: ID!) {{ deletePaymentMethod(input: {{paymentMethodId: $pm}})
        {{ {_ERR} }} }}"""
    body = await gql(
        client, document, {"pm": gid("PaymentMethod", only.id)}, key=await api_key(account)
    )
    assert body["data"]["deletePaymentMethod"]["code"] == "DEFAULT_PAYMENT_METHOD_REQUIRED"
    assert await BillingEvent.all().count() == before
