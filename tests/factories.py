"""Test data built through the real paths where money or the provider is involved."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx

from gateway.sandbox import Sandbox
from models import (
    Account,
    ApiKeyRole,
    BillingInterval,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Plan,
    PlanTier,
    Subscription,
    SubscriptionStatus,
)
from services import card_setup
from services.auth import Principal, create_api_key
from services.context import ServiceContext
from services.invoices import issue_invoice
from tests.conftest import NOW
from tests.sandbox_browser import create_card_payment_method

OK_CARD = "4242424242424242"
DECLINING_CARD = "4000000000000341"  # attaches, every charge declined
REFUSED_CARD = "4000000000000002"  # declined when attached
THREE_DS_CARD = "4000002760003184"


async def make_account(
    email: str = "alice@example.test", *, tier: PlanTier = PlanTier.PLUS, name: str = "Alice Ltd"
) -> Account:
    return await Account.create(
        name=name, email=email, tier=tier, billing_name=name, created_at=NOW - timedelta(days=90)
    )


async def make_plan(tier: PlanTier = PlanTier.PLUS, price: int = 2900) -> Plan:
    plan, _ = await Plan.get_or_create(
        code=f"{tier.value.lower()}-monthly",
        defaults={
            "name": f"{tier.value.title()} monthly",
            "tier": tier,
            "price_amount": price,
            "currency": "USD",
            "interval": BillingInterval.MONTH,
        },
    )
    return plan


async def subscribe(
    account: Account, *, status: SubscriptionStatus = SubscriptionStatus.ACTIVE
) -> Subscription:
    plan = await make_plan(
        account.tier if account.tier is not PlanTier.ENTERPRISE else PlanTier.PLUS
    )
    return await Subscription.create(
        account=account,
        plan=plan,
        status=status,
        current_period_start=NOW - timedelta(days=10),
        current_period_end=NOW + timedelta(days=20),
        past_due_since=NOW - timedelta(days=2) if status is SubscriptionStatus.PAST_DUE else None,
        created_at=NOW - timedelta(days=90),
    )


async def make_invoice(
    account: Account,
    *,
    total: int = 2900,
    status: InvoiceStatus = InvoiceStatus.OPEN,
    subscription: Subscription | None = None,
    period_start: datetime | None = None,
) -> Invoice:
    start = period_start or NOW - timedelta(days=10)
    invoice = await Invoice.create(
        account=account,
        subscription=subscription,
        currency="USD",
        period_start=start,
        period_end=start + timedelta(days=30),
        subtotal=total,
        total=total,
        created_at=start,
    )
    await InvoiceLine.create(
        invoice=invoice,
        description="Plus plan, monthly",
        quantity=1,
        unit_amount=total,
        amount=total,
    )
    if status is not InvoiceStatus.DRAFT:
        invoice = await issue_invoice(invoice, start, due_in=timedelta(days=14))
        if status is not InvoiceStatus.OPEN:
            await Invoice.filter(id=invoice.id).update(
                status=status,
                amount_paid=total if status is InvoiceStatus.PAID else 0,
                paid_at=start if status is InvoiceStatus.PAID else None,
            )
            await invoice.refresh_from_db()
            if status is InvoiceStatus.PAID:  # the books say how it was paid
                await Payment.create(
                    account=account,
                    invoice=invoice,
                    amount=total,
                    currency="USD",
                    status=PaymentStatus.SUCCEEDED,
                    provider_idempotency_key=f"factory-{uuid.uuid4().hex}",
                    created_at=start,
                    updated_at=start,
                    settled_at=start,
                )
    return invoice


def admin_of(account: Account) -> Principal:
    return Principal(role=ApiKeyRole.ADMIN, account_ids=frozenset({account.id}))


def viewer_of(account: Account) -> Principal:
    return Principal(role=ApiKeyRole.VIEWER, account_ids=frozenset({account.id}))


async def add_card(
    services: ServiceContext,
    sandbox: Sandbox,
    account: Account,
    number: str = OK_CARD,
    *,
    make_default: bool = False,
    exp_year: int = 2030,
) -> PaymentMethod:
    """A real card: tokenized in the sandbox like a browser would, added by the service."""
    token = await create_card_payment_method(sandbox, number, exp_year=exp_year)
    pm, _ = await card_setup.add_payment_method(
        services, admin_of(account), account.id, token, make_default=make_default
    )
    return pm


async def api_key(account: Account, role: ApiKeyRole = ApiKeyRole.ADMIN) -> str:
    return await create_api_key(account_email=account.email, role=role, now=NOW)


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    key: str | None = None,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
