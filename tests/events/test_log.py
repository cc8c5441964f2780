"""The event log: appended in the caller's transaction, read in commit order."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.transactions import in_transaction

from models import BillingEvent, BillingEventType
from services.events import log
from tests.conftest import NOW, database_kind
from tests.factories import make_account

pytestmark = pytest.mark.usefixtures("db")


async def test_append_commits_with_the_change_and_rolls_back_with_it() -> None:
    account = await make_account()
    async with in_transaction():
        await log.append(
            BillingEventType.INVOICE_PAID, account_id=account.id, now=NOW, invoice_id=7
        )
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await log.append(BillingEventType.INVOICE_VOIDED, account_id=account.id, now=NOW)
            raise RuntimeError("the change failed")
    events = await BillingEvent.all()
    assert [(e.type, e.invoice_id) for e in events] == [(BillingEventType.INVOICE_PAID, 7)]
    if database_kind() == "postgres":
        assert events[0].txid > 0


async def test_read_after_pages_one_account_in_order_by_type() -> None:
    alice = await make_account()
    bob = await make_account("bob@example.test")
    for i in range(5):
        await log.append(
            BillingEventType.PAYMENT_FAILED, account_id=alice.id, now=NOW, payment_id=i + 1
        )
        await log.append(BillingEventType.PAYMENT_SUCCEEDED, account_id=bob.id, now=NOW)
    page = await log.list_events(alice.id, first=2)
    assert [e.payment_id for e in page.events] == [1, 2] and page.has_next_page
    cursor = log.encode_cursor(log.Position.of(page.events[-1]))
    rest = await log.list_events(alice.id, first=10, after=cursor)
    assert [e.payment_id for e in rest.events] == [3, 4, 5] and not rest.has_next_page
    none = await log.list_events(alice.id, types=[BillingEventType.INVOICE_PAID])
    assert none.events == []


async def test_bad_cursor_is_invalid_input() -> None:
    import base64

    from services.errors import InvalidInput

    forged = [base64.urlsafe_b64encode(raw).decode() for raw in (b"xx:0:1", b"ev:-1:1", b"ev:1")]
    for bad in ["nope", "", *forged]:
        with pytest.raises(InvalidInput):
            log.decode_cursor(bad)


@pytest.mark.postgres
async def test_a_late_commit_is_never_behind_a_cursor_handed_out() -> None:
    """Transaction A takes an id first but commits after B: readers see neither B
    nor anything after it until A commits, so no cursor can skip A."""
    account = await make_account()
    a_appended, release_a = asyncio.Event(), asyncio.Event()

    async def slow_a() -> None:
        async with in_transaction():
            await log.append(BillingEventType.INVOICE_CREATED, account_id=account.id, now=NOW)
            a_appended.set()
            await release_a.wait()

    task = asyncio.create_task(slow_a())
    try:
        await a_appended.wait()
        async with in_transaction():
            await log.append(BillingEventType.INVOICE_PAID, account_id=account.id, now=NOW)
        hidden = await log.read_after(log.START, account_ids=None)
    finally:
        release_a.set()
        await task
    assert hidden == []
    seen = await log.read_after(log.START, account_ids=None)
    assert [e.type for e in seen] == [
        BillingEventType.INVOICE_CREATED,
        BillingEventType.INVOICE_PAID,
    ]
