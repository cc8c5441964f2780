"""The outbox while SMTP is down: messages wait with a backoff and go out once when it is back."""

from __future__ import annotations

from datetime import timedelta

from aiosmtpd.controller import Controller

from gateway.worker import tick
from models import OutboxMessage
from services import notifications
from services.notifications.sender import SmtpConfig, backoff, deliver_due
from tests.factories import make_account
from tests.lifecycle.conftest import free_port
from tests.lifecycle.helpers import parts


async def _queue(account, clock, n: int) -> None:
    for i in range(n):
        await notifications.enqueue(
            template="payment_succeeded",
            account=account,
            dedupe_key=f"test:{i}",
            context={
                "amount": "$29.00",
                "invoice_number": f"INV-2026-{i + 1:06d}",
                "card": "Visa card ending 4242",
                "restored": False,
                "receipt_url": f"https://billing.test/receipts/{i}.pdf",
            },
            now=clock.now(),
        )


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert backoff(30) == timedelta(hours=1)


async def test_messages_wait_while_smtp_is_down_and_go_out_once(db, clock, smtp_down):
    account = await make_account()
    await _queue(account, clock, 3)

    # when SMTP is down, then every message stays pending with a growing backoff
    first = await deliver_due(smtp_down.smtp, clock.now())
    assert (first.sent, first.failed) == (0, 3)
    for message in await OutboxMessage.all():
        assert (message.status, message.attempts) == ("PENDING", 1)
        assert message.next_attempt_at == clock.now() + timedelta(seconds=15)
        assert message.last_error and message.sent_at is None
    # and nothing is tried again before the backoff ends
    early = await deliver_due(smtp_down.smtp, clock.now() + timedelta(seconds=14))
    assert (early.sent, early.failed) == (0, 0)
    clock.advance(timedelta(seconds=15))
    await deliver_due(smtp_down.smtp, clock.now())
    for message in await OutboxMessage.all():
        assert (message.status, message.attempts) == ("PENDING", 2)
        assert message.next_attempt_at == clock.now() + timedelta(seconds=30)

    # when SMTP is back, still nothing goes out until the backoff ends
    smtp_down.start()
    assert (await deliver_due(smtp_down.smtp, clock.now())).sent == 0
    assert smtp_down.messages == []
    clock.advance(timedelta(seconds=30))
    report = await deliver_due(smtp_down.smtp, clock.now())

    # then each message is delivered once and marked SENT
    assert (report.sent, report.failed) == (3, 0)
    numbers = sorted(t.split("invoice ")[1][:15] for t, _ in map(parts, smtp_down.messages))
    assert numbers == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
    assert {m["To"] for m in smtp_down.messages} == {account.email}
    assert len({m["Message-ID"] for m in smtp_down.messages}) == 3
    for message in await OutboxMessage.all():
        assert (message.status, message.attempts) == ("SENT", 3)
        assert message.sent_at == clock.now() and message.last_error is None

    # and a later pass sends nothing
    clock.advance(timedelta(days=1))
    again = await deliver_due(smtp_down.smtp, clock.now())
    assert (again.sent, again.failed) == (0, 0) and len(smtp_down.messages) == 3


async def test_server_stopping_midway_keeps_the_rest(services, clock, mailbox):
    account = await make_account()
    await _queue(account, clock, 1)
    assert (await tick(services, mailbox.smtp)).emailed == 1

    mailbox.stop()
    await _queue(account, clock, 2)  # test:0 is deduplicated, test:1 is new
    assert (await tick(services, mailbox.smtp)).emailed == 0
    pending = await OutboxMessage.get(dedupe_key="test:1")
    assert (pending.status, pending.attempts) == ("PENDING", 1)

    mailbox.start()
    clock.advance(timedelta(minutes=1))
    assert (await tick(services, mailbox.smtp)).emailed == 1
    assert len(mailbox.messages) == 2
    assert await OutboxMessage.filter(status="SENT").count() == 2


async def test_a_message_left_sending_is_retried_after_its_lease(db, clock, mailbox):
    """A worker that died mid-send left the row SENDING: it goes out when the lease ends."""
    account = await make_account()
    await _queue(account, clock, 1)
    lease_end = clock.now() + timedelta(minutes=2)
    await OutboxMessage.all().update(status="SENDING", next_attempt_at=lease_end)

    assert (await deliver_due(mailbox.smtp, clock.now())).sent == 0
    clock.advance(timedelta(minutes=2))
    assert (await deliver_due(mailbox.smtp, clock.now())).sent == 1
    assert len(mailbox.messages) == 1


async def test_a_message_that_cannot_render_does_not_block_the_others(db, clock, mailbox):
    account = await make_account()
    await notifications.enqueue(
        template="payment_failed",
        account=account,
        dedupe_key="broken",
        context={"amount": "$29.00"},  # the template needs more than this
        now=clock.now(),
    )
    await _queue(account, clock, 2)

    report = await deliver_due(mailbox.smtp, clock.now())

    assert (report.sent, report.failed) == (2, 1) and len(mailbox.messages) == 2
    broken = await OutboxMessage.get(dedupe_key="broken")
    assert broken.status == "FAILED" and "UndefinedError" in broken.last_error
    clock.advance(timedelta(hours=2))
    assert (await deliver_due(mailbox.smtp, clock.now())).failed == 0  # not retried


class _Refusing:
    """An SMTP server that refuses the recipient for good (550)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such user"


async def test_a_permanent_refusal_is_not_retried(db, clock):
    account = await make_account()
    await _queue(account, clock, 1)
    port = free_port()
    server = Controller(_Refusing(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        report = await deliver_due(SmtpConfig(port=port), clock.now())
    finally:
        server.stop()

    assert (report.sent, report.failed) == (0, 1)
    [message] = await OutboxMessage.all()
    assert message.status == "FAILED" and "550" in (message.last_error or "")
    clock.advance(timedelta(days=2))
    assert (await deliver_due(SmtpConfig(port=port), clock.now())).failed == 0
