"""Helpers for the GraphQL tests: global IDs, a snapshot of every billing table, and one
minimal call of every mutation (for the role and tier refusals)."""

from __future__ import annotations

from typing import Any

from gateway.sandbox import Sandbox
from models import Account, Invoice, InvoiceLine, Payment, PaymentMethod, Subscription
from resolvers.ids import to_global_id
from services import payments
from services.context import ServiceContext
from services.provider.recording import RecordingProvider
from tests.conftest import NOW
from tests.factories import THREE_DS_CARD, add_card, admin_of, make_account, make_invoice, subscribe

_TABLES = (Account, Subscription, PaymentMethod, Invoice, InvoiceLine, Payment)


def gid(type_name: str, pk: int) -> str:
    """The Relay ID a client would have read from an earlier response."""
    return to_global_id(type_name, pk)


async def db_state() -> dict[str, list[dict[str, Any]]]:
    """Every row of the billing tables, to assert a refused request changed nothing."""
    return {model.__name__: await model.all().order_by("id").values() for model in _TABLES}


_ERROR = "__typename ... on UserError { code message field }"

ALL_MUTATIONS: dict[str, str] = {
    "startPaymentMethodSetup": f"""
        mutation($a: ID) {{ startPaymentMethodSetup(input: {{accountId: $a}}) {{ {_ERROR} }} }}""",
    "addPaymentMethod": f"""
        mutation($a: ID) {{
          addPaymentMethod(input: {{accountId: $a, providerToken: "pm_card_visa"}}) {{ {_ERROR} }}
        }}""",
    "confirmPaymentMethod": f"""
        mutation($pm: ID!) {{
          confirmPaymentMethod(input: {{paymentMethodId: $pm}}) {{ {_ERROR} }} }}""",
    "makeDefault": f"""
        mutation($pm: ID!) {{ makeDefault(input: {{paymentMethodId: $pm}}) {{ {_ERROR} }} }}""",
    "deletePaymentMethod": f"""
        mutation($pm: ID!) {{
          deletePaymentMethod(input: {{paymentMethodId: $pm}}) {{ {_ERROR} }} }}""",
    "payInvoice": f"""
        mutation($inv: ID!) {{ payInvoice(input: {{invoiceId: $inv}}) {{ {_ERROR} }} }}""",
    "confirmPayment": f"""
        mutation($pay: ID!) {{ confirmPayment(input: {{paymentId: $pay}}) {{ {_ERROR} }} }}""",
    "updateBillingInfo": f"""
        mutation($a: ID) {{
          updateBillingInfo(input: {{accountId: $a, name: "Mallory"}}) {{ {_ERROR} }} }}""",
    "previewPlanChange": f"""
        mutation($a: ID, $plan: ID! = "{to_global_id("Plan", 1)}") {{
          previewPlanChange(input: {{accountId: $a, planId: $plan}}) {{ {_ERROR} }} }}""",
    "changePlan": f"""
        mutation($a: ID, $plan: ID! = "{to_global_id("Plan", 1)}", $cpm: ID) {{
          changePlan(input: {{accountId: $a, planId: $plan, quoteId: "qt_made_up",
                              paymentMethodId: $cpm}}) {{ {_ERROR} }} }}""",
    "cancelPendingPlanChange": f"""
        mutation($a: ID) {{ cancelPendingPlanChange(input: {{accountId: $a}}) {{ {_ERROR} }} }}""",
    "cancelSubscription": f"""
        mutation($a: ID) {{
          cancelSubscription(input: {{accountId: $a, reason: UNUSED}}) {{ {_ERROR} }} }}""",
    "resumeSubscription": f"""
        mutation($a: ID) {{ resumeSubscription(input: {{accountId: $a}}) {{ {_ERROR} }} }}""",
    "updatePaymentMethod": f"""
        mutation($pm: ID!) {{
          updatePaymentMethod(input: {{paymentMethodId: $pm, expMonth: 12}}) {{ {_ERROR} }} }}""",
}


async def billed_account(
    services: ServiceContext, sandbox: Sandbox, provider: RecordingProvider
) -> tuple[Account, dict[str, Any]]:
    """A PLUS account with a default card, a second card, an open invoice and a 3DS payment."""
    account = await make_account()
    sub = await subscribe(account)
    await add_card(services, sandbox, account)
    needs_3ds = await add_card(services, sandbox, account, THREE_DS_CARD)
    invoice = await make_invoice(account, subscription=sub)
    paid = await make_invoice(account, subscription=sub, period_start=NOW)
    _, payment = await payments.pay_invoice(services, admin_of(account), paid.id)
    provider.reset()
    ids = {
        "a": gid("Account", account.id),
        "pm": gid("PaymentMethod", needs_3ds.id),
        "inv": gid("Invoice", invoice.id),
        "pay": gid("Payment", payment.id),
    }
    return account, ids
