"""Races that only show on PostgreSQL: never charge twice, always exactly one default card.

Each coroutine of `asyncio.gather` runs in its own task; Tortoise's `in_transaction()`
takes its own pooled asyncpg connection per task (a contextvar holds it), so the
transactions below really overlap: the conditional UPDATE claiming an invoice and the
account row lock guarding the cards are what keep the outcome right.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from models import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentMethodStatus,
    PaymentStatus,
    PlanTier,
)
from services.errors import (
    DefaultPaymentMethodRequired,
    InvoiceNotPayable,
    NotFound,
    PaymentInProgress,
)
from services.payment_methods import delete_payment_method, make_default
from services.payments import pay_invoice
from tests.factories import add_card, admin_of, make_account, make_invoice, subscribe

pytestmark = pytest.mark.postgres

CALLERS = 20


async def _paid_account(services, sandbox):
    account = await make_account()
    await add_card(services, sandbox, account)
    invoice = await make_invoice(account, total=4900)
    return account, invoice


async def test_in_transaction_gives_each_task_its_own_connection(db):
    from tortoise.transactions import in_transaction

    seen: list[int] = []
    both_inside = asyncio.Barrier(2)

    async def hold() -> None:
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict("SELECT pg_backend_pid() AS pid")
            seen.append(rows[0]["pid"])
            await both_inside.wait()  # both transactions are open at the same time

    await asyncio.wait_for(asyncio.gather(hold(), hold()), timeout=10)

    assert len(set(seen)) == 2


async def test_concurrent_pay_invoice_charges_once(services, sandbox, provider):
    account, invoice = await _paid_account(services, sandbox)
    provider.reset()

    results = await asyncio.gather(
        *(pay_invoice(services, admin_of(account), invoice.id) for _ in range(CALLERS)),
        return_exceptions=True,
    )

    successes = [r for r in results if isinstance(r, tuple)]
    refusals = [r for r in results if isinstance(r, BaseException)]
    assert len(successes) == 1, results
    assert all(isinstance(r, PaymentInProgress | InvoiceNotPayable) for r in refusals), refusals
    assert provider.names() == ["charge"]
    payments = await Payment.filter(invoice_id=invoice.id)
    assert [p.status for p in payments] == [successes[0][1].status]
    assert payments[0].id == successes[0][1].id
    paid = await Invoice.get(id=invoice.id)
    assert paid.status is InvoiceStatus.PAID and paid.amount_paid == 4900
    assert paid.active_payment_id is None


async def test_concurrent_pay_invoice_with_one_idempotency_key_returns_one_payment(
    services, sandbox, provider
):
    account, invoice = await _paid_account(services, sandbox)
    provider.reset()

    results = await asyncio.gather(
        *(
            pay_invoice(services, admin_of(account), invoice.id, idempotency_key="double-click")
            for _ in range(CALLERS)
        ),
        return_exceptions=True,
    )

    # one answer per key: the outcome, or "in progress, retry" (never a PENDING success)
    answers = [r for r in results if isinstance(r, tuple)]
    waits = [r for r in results if not isinstance(r, tuple)]
    assert answers and all(isinstance(r, PaymentInProgress) for r in waits), results
    assert {payment.id for _, payment in answers} == {(await Payment.get(invoice_id=invoice.id)).id}
    assert {payment.status for _, payment in answers} == {PaymentStatus.SUCCEEDED}
    assert provider.names() == ["charge"]
    assert (await Invoice.get(id=invoice.id)).status is InvoiceStatus.PAID


async def test_storm_of_make_default_and_delete_keeps_one_default(services, sandbox, provider):
    account = await make_account(tier=PlanTier.PLUS)
    await subscribe(account)
    admin = admin_of(account)
    detached = 0

    for round_ in range(3):  # several rounds: each interleaving is a new chance to break
        cards = await _live_cards(account.id)
        cards += [await add_card(services, sandbox, account) for _ in range(4 - len(cards))]
        provider.reset()
        ops = [
            make_default(services, admin, card.id)
            if (i + round_) % 3
            else delete_payment_method(services, admin, card.id)
            for i, card in zip(range(24), itertools.cycle(cards), strict=False)
        ]
        results = await asyncio.gather(*ops, return_exceptions=True)

        errors = [r for r in results if isinstance(r, BaseException)]
        assert all(isinstance(e, NotFound | DefaultPaymentMethodRequired) for e in errors), errors
        live = await PaymentMethod.filter(account_id=account.id).exclude(
            status=PaymentMethodStatus.DELETED
        )
        assert live, "a paid plan must keep at least one card"
        assert len([pm for pm in live if pm.is_default]) == 1
        deleted_defaults = await PaymentMethod.filter(
            account_id=account.id, status=PaymentMethodStatus.DELETED, is_default=True
        ).count()
        assert deleted_defaults == 0
        detached += len(provider.calls_to("detach_payment_method"))

    deleted = await PaymentMethod.filter(
        account_id=account.id, status=PaymentMethodStatus.DELETED
    ).count()
    assert detached == deleted > 0


async def _live_cards(account_id: int) -> list[PaymentMethod]:
    return list(
        await PaymentMethod.filter(account_id=account_id)
        .exclude(status=PaymentMethodStatus.DELETED)
        .order_by("id")
    )
