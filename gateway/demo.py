"""Demo data: four accounts that show every state of the billing portal.

Cards are real in the sandbox (tokenized there, added through the services) and
past invoices are paid through the real payment path. The sandbox keeps its state
in memory, so on a restart the stored cards are vaulted again in the fresh sandbox
(`revault_cards`) and the demo's data and keys survive.

Seeding calls the provider between its steps, so it cannot be one transaction: its
last write is a `DemoSeed` row. Demo accounts without it are what a run stopped
mid-seed left behind; the next run removes them and seeds again.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from tortoise.transactions import in_transaction

from models import (
    Account,
    ApiKey,
    ApiKeyRole,
    BillingInterval,
    DemoSeed,
    Invoice,
    Meter,
    OutboxMessage,
    Payment,
    PaymentMethod,
    PaymentMethodStatus,
    Plan,
    PlanAllowance,
    PlanTier,
    Subscription,
    SubscriptionStatus,
    UsageEvent,
)
from services import card_setup, payments
from services.auth import (
    KeyHasher,
    Principal,
    authenticate,
    create_api_key,
    create_partner_key,
    create_service_key,
)
from services.context import ServiceContext
from services.customers import ensure_customer
from services.errors import PaymentDeclined, Unauthenticated
from services.invoices import issue_plan_invoice
from services.usage import MICROS
from services.usage.ingest import EventIn, report_usage

log = logging.getLogger(__name__)

#: The usage event seeded last (for demos seeded before `DemoSeed` existed).
FINAL_STEP_EVENT = "demo-free-1"
DEMO_EMAILS = ("free@demo.test", "plus@demo.test", "enterprise@demo.test", "pastdue@demo.test")
#: Sandbox test numbers by last4, to vault the same cards again after a restart.
TEST_NUMBERS = {
    "4242": "4242424242424242",
    "4444": "5555555555554444",
    "0341": "4000000000000341",
    "3184": "4000002760003184",
    "5556": "4000056655665556",
}
PLANS = [
    ("free", "Free", PlanTier.FREE, 0, BillingInterval.MONTH),
    ("plus-monthly", "Plus (monthly)", PlanTier.PLUS, 2900, BillingInterval.MONTH),
    ("plus-5k", "Plus 5K (monthly)", PlanTier.PLUS, 9900, BillingInterval.MONTH),
    ("plus-yearly", "Plus (yearly)", PlanTier.PLUS, 29000, BillingInterval.YEAR),
    ("enterprise", "Enterprise", PlanTier.ENTERPRISE, 250000, BillingInterval.MONTH),
]
#: The one demo meter, and what each plan includes of it per period: (included credits,
#: overage price in cents per credit, None where there is no self-service overage).
CREDITS_METER = ("credits", "Credits", "credit")
ALLOWANCES = {
    "free": (50, None),
    "plus-monthly": (1_000, 4),
    "plus-5k": (5_000, 4),
    "plus-yearly": (12_000, 4),
    "enterprise": (100_000, None),  # overage handled by sales
}


async def tokenize(api_base: str, secret_key: str, number: str, exp_year: int = 2030) -> str:
    """What Stripe.js does in the browser: a test card → pm_... (the sandbox's
    payment_methods endpoint takes only a secret key, unlike Stripe's)."""
    form = {
        "type": "card",
        "card[number]": number,
        "card[exp_month]": "12",
        "card[exp_year]": str(exp_year),
        "card[cvc]": "123",
    }
    headers = {"Authorization": f"Bearer {secret_key}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{api_base}/v1/payment_methods", data=form) as response:
            body = await response.json()
    return str(body["id"])


async def seed_if_absent(ctx: ServiceContext, api_base: str, secret_key: str) -> bool:
    """Create the demo accounts unless a complete seed is there; returns True when it
    seeded. A half-seeded demo (no `DemoSeed` row) is removed and seeded again."""
    if await DemoSeed.exists():
        return False
    if await Account.filter(email__in=DEMO_EMAILS).exists():
        if await _seeded_before_the_marker():
            await DemoSeed.create(completed_at=ctx.clock.now())
            return False
        log.warning("the demo data is incomplete (a seed was stopped): seeding it again")
        await _remove_demo_accounts()
    await _seed(ctx, api_base, secret_key)
    await DemoSeed.create(completed_at=ctx.clock.now())  # last: the seed is complete
    return True


async def _seeded_before_the_marker() -> bool:
    """A demo seeded by a version without `DemoSeed`: its final step's usage is there."""
    return await UsageEvent.filter(
        account__email="free@demo.test", event_id=FINAL_STEP_EVENT
    ).exists()


async def _remove_demo_accounts() -> None:
    """Everything a stopped seed wrote for the demo accounts (rows hang off the account
    and go with it; their queued emails are removed first, as they would only lose
    their account)."""
    async with in_transaction():
        ids = await Account.filter(email__in=DEMO_EMAILS).values_list("id", flat=True)
        await OutboxMessage.filter(account_id__in=list(ids)).delete()
        await Account.filter(id__in=list(ids)).delete()


async def _seed(ctx: ServiceContext, api_base: str, secret_key: str) -> None:
    now = ctx.clock.now()
    plans = {}
    for code, name, tier, price, interval in PLANS:
        plans[code], _ = await Plan.get_or_create(
            code=code,
            defaults={"name": name, "tier": tier, "price_amount": price, "interval": interval},
        )
    await seed_allowances(plans)

    async def card(account: Account, number: str, default: bool = False) -> PaymentMethod:
        token = await tokenize(api_base, secret_key, number)
        admin = Principal(role=ApiKeyRole.ADMIN, account_ids=frozenset({account.id}))
        pm, _ = await card_setup.add_payment_method(
            ctx, admin, account.id, token, make_default=default
        )
        return pm

    free = await _account("Free Demo", "free@demo.test", PlanTier.FREE, now)
    await _subscription(free, plans["free"], SubscriptionStatus.ACTIVE, now)
    await card(free, TEST_NUMBERS["4242"])

    plus = await _account("Plus Demo Inc.", "plus@demo.test", PlanTier.PLUS, now)
    plus_sub = await _subscription(plus, plans["plus-monthly"], SubscriptionStatus.ACTIVE, now)
    await card(plus, TEST_NUMBERS["4242"])
    await card(plus, TEST_NUMBERS["4444"])
    for months_ago in (3, 2, 1):
        invoice = await _invoice(plus_sub, plans["plus-monthly"], now, months_ago)
        await _pay_on_issue(ctx, plus, invoice)
    await _invoice(plus_sub, plans["plus-monthly"], now, 0)

    # Seeded as PLUS so its card and history go through the self-service path, then
    # switched: Enterprise refuses every billing mutation.
    ent = await _account("Enterprise Demo Corp", "enterprise@demo.test", PlanTier.PLUS, now)
    ent_sub = await _subscription(ent, plans["enterprise"], SubscriptionStatus.ACTIVE, now)
    await card(ent, TEST_NUMBERS["4242"])
    for months_ago in (2, 1):
        invoice = await _invoice(ent_sub, plans["enterprise"], now, months_ago)
        await _pay_on_issue(ctx, ent, invoice)
    await _invoice(ent_sub, plans["enterprise"], now, 0)
    await Account.filter(id=ent.id).update(tier=PlanTier.ENTERPRISE)

    late = await _account("Past Due Demo LLC", "pastdue@demo.test", PlanTier.PLUS, now)
    late_sub = await _subscription(late, plans["plus-monthly"], SubscriptionStatus.ACTIVE, now)
    await card(late, TEST_NUMBERS["0341"])
    invoice = await _invoice(late_sub, plans["plus-monthly"], now, 0)
    try:
        await payments.pay_invoice(ctx, _admin(late), invoice.id)
    except PaymentDeclined:
        pass  # the renewal charge that failed: this is what made it past due
    # Put it where the worker would have: first failure half a day ago, first retry
    # half a day from now (`clock advance --days 1` shows it).
    failed_at = now - timedelta(hours=12)
    await Payment.filter(invoice_id=invoice.id).update(off_session=True, created_at=failed_at)
    await Invoice.filter(id=invoice.id).update(
        auto_collect=True,
        collection_attempts=1,
        first_failed_at=failed_at,
        next_attempt_at=failed_at + timedelta(days=ctx.policy.retry_days[0]),
    )
    await Subscription.filter(id=late_sub.id).update(
        status=SubscriptionStatus.PAST_DUE, past_due_since=failed_at
    )
    # Seeding paid the history through the real path, which queued receipts for
    # months-old invoices: nobody should get those today.
    await OutboxMessage.all().delete()
    await seed_usage(ctx, plus, free)


async def seed_usage(ctx: ServiceContext, plus: Account, free: Account) -> None:
    """Through the real ingestion path: plus@ at 850 of 1,000 credits (its 80 %
    notification fired and emailed), free@ at 50 of 50 (blocked: allowed false)."""
    service = Principal(role=ApiKeyRole.SERVICE, account_ids=frozenset(), caller="demo")
    await report_usage(
        ctx,
        service,
        [
            EventIn(account_id=plus.id, id="demo-plus-1", meter="credits", quantity="600"),
            EventIn(account_id=plus.id, id="demo-plus-2", meter="credits", quantity="250"),
            EventIn(account_id=free.id, id=FINAL_STEP_EVENT, meter="credits", quantity="50"),
        ],
    )


async def seed_allowances(plans: dict[str, Plan]) -> None:
    """The credits meter and each demo plan's allowance of it (kept if already there)."""
    code, name, unit = CREDITS_METER
    meter, _ = await Meter.get_or_create(code=code, defaults={"name": name, "unit": unit})
    for plan_code, (included, overage_price) in ALLOWANCES.items():
        if plan_code in plans:
            await PlanAllowance.get_or_create(
                plan=plans[plan_code],
                meter=meter,
                defaults={
                    "included_micros": included * MICROS,
                    "overage_unit_amount": overage_price,
                },
            )


async def _pay_on_issue(ctx: ServiceContext, account: Account, invoice: Invoice) -> None:
    """Pay through the real path, then date it as the renewal charge it stands for."""
    _, payment = await payments.pay_invoice(ctx, _admin(account), invoice.id)
    assert invoice.issued_at is not None
    paid_at = invoice.issued_at + timedelta(minutes=5)
    await Invoice.filter(id=invoice.id).update(paid_at=paid_at)
    await Payment.filter(id=payment.id).update(
        created_at=paid_at, updated_at=paid_at, settled_at=paid_at, off_session=True
    )


def _admin(account: Account) -> Principal:
    return Principal(role=ApiKeyRole.ADMIN, account_ids=frozenset({account.id}))


async def _account(name: str, email: str, tier: PlanTier, now: datetime) -> Account:
    return await Account.create(
        name=name,
        email=email,
        tier=tier,
        billing_name=name,
        address_line1="1 Market Street",
        address_city="San Francisco",
        address_state="CA",
        address_postal_code="94105",
        address_country="US",
        created_at=now - timedelta(days=120),
    )


async def _subscription(
    account: Account, plan: Plan, status: SubscriptionStatus, now: datetime
) -> Subscription:
    return await Subscription.create(
        account=account,
        plan=plan,
        status=status,
        current_period_start=now - timedelta(days=10),
        current_period_end=now + timedelta(days=20),
        created_at=now - timedelta(days=120),
    )


async def _invoice(sub: Subscription, plan: Plan, now: datetime, months_ago: int) -> Invoice:
    start = now - timedelta(days=10 + 30 * months_ago)
    return await issue_plan_invoice(
        sub,
        plan,
        start=start,
        end=start + timedelta(days=30),
        now=start,
        due_in=timedelta(days=14),
    )


async def revault_cards(ctx: ServiceContext, api_base: str, secret_key: str) -> int:
    """After a restart the in-memory sandbox is empty: vault the stored cards again."""
    await Account.filter(email__in=DEMO_EMAILS).update(provider_customer_id=None)
    count = 0
    for account in await Account.filter(email__in=DEMO_EMAILS):
        customer_id = await ensure_customer(ctx, account)
        cards = await PaymentMethod.filter(account_id=account.id).exclude(
            status=PaymentMethodStatus.DELETED
        )
        for pm in cards:
            number = TEST_NUMBERS.get(pm.last4, TEST_NUMBERS["4242"])
            token = await tokenize(api_base, secret_key, number)
            await ctx.provider.attach_payment_method(
                payment_method_id=token, customer_id=customer_id
            )
            await PaymentMethod.filter(id=pm.id).update(provider_id=token)
            count += 1
    return count


async def write_credentials(
    path: Path, now: datetime, hasher: KeyHasher | None = None
) -> dict[str, Any]:
    """Keys are shown once: the demo keeps its own in a file for the person trying it."""
    hasher = hasher or KeyHasher.development()
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text())
        if await _keys_still_valid(data, hasher, now):
            return data
    # New demo keys replace the old ones (a principal holds at most two active keys).
    await ApiKey.filter(label="demo", revoked_at=None).update(revoked_at=now)
    accounts: dict[str, dict[str, str]] = {}
    for email in DEMO_EMAILS:
        accounts[email] = {
            "admin": await create_api_key(
                account_email=email, role=ApiKeyRole.ADMIN, now=now, label="demo", hasher=hasher
            ),
            "viewer": await create_api_key(
                account_email=email, role=ApiKeyRole.VIEWER, now=now, label="demo", hasher=hasher
            ),
        }
    partner = await create_partner_key(
        account_emails=list(DEMO_EMAILS), now=now, label="demo", hasher=hasher
    )
    service = await create_service_key(now=now, label="demo", hasher=hasher)
    data = {"accounts": accounts, "partner": partner, "service": service}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    path.chmod(0o600)
    return data


async def _keys_still_valid(data: dict[str, Any], hasher: KeyHasher, now: datetime) -> bool:
    try:
        await authenticate(f"Bearer {data['partner']}", hasher=hasher, now=now)
        await authenticate(f"Bearer {data['service']}", hasher=hasher, now=now)
        return True
    except (Unauthenticated, KeyError):
        return False
