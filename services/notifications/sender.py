"""Deliver the outbox over SMTP.

A due row is claimed with a lease (services/jobs.py), sent, then marked SENT. While
SMTP is down the row goes back to PENDING with an exponential backoff; a row that
cannot be rendered (a template and its stored context disagree) is parked as FAILED
so it does not hold up the others. A worker that dies mid-send leaves the row
SENDING; it is retried when the lease runs out, with the same Message-ID so a
receiving server can drop the duplicate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosmtplib

from models import OutboxMessage
from services.jobs import claim
from services.notifications.render import build_message, render_email

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=1)
MAX_ATTEMPTS = 30


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 1025
    sender: str = "Billing <billing@example.test>"
    username: str | None = None
    password: str | None = None
    start_tls: bool = False
    use_tls: bool = False
    timeout_s: float = 10.0


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int


def _permanent(exc: BaseException) -> bool:
    """SMTP 5xx: the server refused this message for good (4xx and network errors pass)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= r.code < 600 for r in exc.recipients)
    code = getattr(exc, "code", None)
    return isinstance(code, int) and 500 <= code < 600


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=15 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


async def deliver_due(smtp: SmtpConfig, now: datetime, *, limit: int = 50) -> DeliveryReport:
    due = OutboxMessage.filter(status__in=["PENDING", "SENDING"], next_attempt_at__lte=now)
    claimed = await claim(due, lease_until=now + LEASE, limit=limit, status="SENDING")
    sent = failed = 0
    for message in claimed:
        try:
            rendered = render_email(message.template, message.context)
            email = build_message(
                rendered,
                sender=smtp.sender,
                to=message.to_email,
                dedupe_key=message.dedupe_key,
                created=message.created_at,
            )
        except Exception as exc:  # it will never render: park it instead of blocking the rest
            failed += 1
            await OutboxMessage.filter(id=message.id, status="SENDING").update(
                status="FAILED", last_error=f"{type(exc).__name__}: {exc}"[:500]
            )
            log.exception("email cannot be rendered", extra={"outbox_id": message.id})
            continue
        try:
            await aiosmtplib.send(
                email,
                hostname=smtp.host,
                port=smtp.port,
                username=smtp.username,
                password=smtp.password,
                start_tls=smtp.start_tls,
                use_tls=smtp.use_tls,
                timeout=smtp.timeout_s,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            failed += 1
            attempts = message.attempts + 1
            # A 5xx answer (e.g. the recipient does not exist) will not change by waiting;
            # neither, after MAX_ATTEMPTS (about a day of backoff), will anything else.
            give_up = _permanent(exc) or attempts >= MAX_ATTEMPTS
            await OutboxMessage.filter(id=message.id, status="SENDING").update(
                status="FAILED" if give_up else "PENDING",
                attempts=attempts,
                next_attempt_at=now + backoff(attempts),
                last_error=f"{type(exc).__name__}: {exc}"[:500],
            )
            log.warning(
                "email delivery failed; %s",
                "giving up" if give_up else "will retry",
                extra={"outbox_id": message.id},
            )
            continue
        sent += 1
        await OutboxMessage.filter(id=message.id, status="SENDING").update(
            status="SENT", sent_at=now, attempts=message.attempts + 1, last_error=None
        )
    return DeliveryReport(sent=sent, failed=failed)
