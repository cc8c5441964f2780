"""Many billed accounts at once, written straight to the tables (no provider): for the
statement-count tests and the benchmark, where volume matters and card flows do not."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models import (
    Account,
    BillingInterval,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentMethodStatus,
    PaymentStatus,
    Plan,
    PlanTier,
    Subscription,
    SubscriptionStatus,
)
from services.billing_info import billing_snapshot


async def billed_accounts(
    count: int, *, invoices: int = 3, now: datetime, prefix: str = "acct"
) -> list[Account]:
    """`count` PLUS accounts, each with a subscription, two cards (one default) and
    `invoices` monthly invoices (two lines each): all paid, except the newest is open
    with one declined payment on it."""
    async with in_transaction():
        plan, _ = await Plan.get_or_create(
            code="plus-monthly",
            defaults={
                "name": "Plus monthly",
                "tier": PlanTier.PLUS,
                "price_amount": 2900,
                "currency": "USD",
                "interval": BillingInterval.MONTH,
            },
        )
        made = []
        for n in range(count):
            made.append(await _one_account(f"{prefix}-{n}", plan, invoices, now))
    return made


async def _one_account(name: str, plan: Plan, invoice_count: int, now: datetime) -> Account:
    account = await Account.create(
        name=name,
        email=f"{name}@example.test",
        tier=PlanTier.PLUS,
        billing_name=name,
        address_line1="1 Market Street",
        address_city="San Francisco",
        address_country="US",
        created_at=now - timedelta(days=400),
    )
    await Subscription.create(
        account=account,
        plan=plan,
        status=SubscriptionStatus.ACTIVE,
        current_period_start=now - timedelta(days=10),
        current_period_end=now + timedelta(days=20),
        created_at=now - timedelta(days=400),
    )
    cards = [
        await PaymentMethod.create(
            account=account,
            provider_id=f"pm_{name}_{i}",
            brand="visa",
            last4=f"42{i}2",
            exp_month=12,
            exp_year=2030,
            status=PaymentMethodStatus.ACTIVE,
            is_default=i == 0,
            created_at=now - timedelta(days=300 - i),
        )
        for i in range(2)
    ]
    lines: list[InvoiceLine] = []
    payments: list[Payment] = []
    for i in range(invoice_count):
        start = now - timedelta(days=30 * (invoice_count - i))
        is_open = i == invoice_count - 1
        invoice = await Invoice.create(
            account=account,
            currency="USD",
            number=f"INV-{name}-{i:04d}",
            status=InvoiceStatus.OPEN if is_open else InvoiceStatus.PAID,
            period_start=start,
            period_end=start + timedelta(days=30),
            issued_at=start,
            due_at=start + timedelta(days=14),
            paid_at=None if is_open else start,
            subtotal=3900,
            total=3900,
            amount_paid=0 if is_open else 3900,
            billing_snapshot=billing_snapshot(account),
            created_at=start,
        )
        lines += [
            InvoiceLine(
                invoice=invoice,
                position=0,
                description="Plus (monthly)",
                quantity=1,
                unit_amount=2900,
                amount=2900,
            ),
            InvoiceLine(
                invoice=invoice,
                position=1,
                description="Extra seats",
                quantity=2,
                unit_amount=500,
                amount=1000,
            ),
        ]
        payments.append(
            Payment(
                account=account,
                invoice=invoice,
                payment_method=cards[0],
                amount=3900,
                currency="USD",
                status=PaymentStatus.FAILED if is_open else PaymentStatus.SUCCEEDED,
                failure_code="card_declined" if is_open else None,
                failure_message="Your card was declined." if is_open else None,
                provider_idempotency_key=f"bulk-{name}-{i}",
                created_at=start,
                updated_at=start,
                settled_at=start,
            )
        )
    await InvoiceLine.bulk_create(lines)
    await Payment.bulk_create(payments)
    return account
