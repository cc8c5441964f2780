"""The worker loop: renewals, collection and dunning retries, reconciliation, abandoned
upgrades, email.

Every step claims its rows (services/jobs.py, SKIP LOCKED on PostgreSQL), so any
number of workers can run side by side. A failing step is logged and the loop goes
on: one bad row must not stop renewals for everyone else.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from gateway import metrics
from gateway.settings import Settings
from models import Invoice, InvoiceStatus, OutboxMessage, Subscription
from services.collection import collect_due
from services.context import ServiceContext
from services.events import webhooks
from services.notifications.sender import SmtpConfig, deliver_due
from services.plan_change_billing import release_abandoned_upgrades
from services.reconcile import settle_stale
from services.renewals import RENEWABLE, renew_due

log = logging.getLogger("gateway.worker")


def smtp_config(settings: Settings) -> SmtpConfig:
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        start_tls=settings.smtp_starttls,
        use_tls=settings.smtp_tls,
    )


@dataclass
class TickReport:
    renewed: int = 0
    charged: int = 0
    reconciled: int = 0
    emailed: int = 0
    released: int = 0  # upgrades abandoned in 3-D Secure, canceled and voided
    webhooks: int = 0  # webhook delivery attempts


async def tick(services: ServiceContext, smtp: SmtpConfig) -> TickReport:
    """One pass over every job; what the loop runs each interval (and tests call)."""
    report = TickReport()
    steps = (
        ("renewals", renew_due),
        ("collection", collect_due),
        ("reconcile", settle_stale),
    )
    for name, step in steps:
        try:
            result = await step(services)
        except Exception:
            log.exception("worker step %s failed", name)
            continue
        if name == "renewals":
            report.renewed = result.renewed  # type: ignore[attr-defined]
        elif name == "collection":
            report.charged = result.attempted  # type: ignore[attr-defined]
        else:
            report.reconciled = result.settled  # type: ignore[attr-defined]
    try:
        report.released = await release_abandoned_upgrades(services)
    except Exception:
        log.exception("worker step upgrades failed")
    try:
        report.webhooks = await webhooks.run(services.clock.now(), services.policy)
    except Exception:
        log.exception("worker step webhooks failed")
    try:
        report.emailed = (await deliver_due(smtp, services.clock.now())).sent
    except Exception:
        log.exception("worker step outbox failed")
    try:
        await _record_lag(services)
    except Exception:
        log.exception("worker lag metrics failed")
    return report


async def _record_lag(services: ServiceContext) -> None:
    """How far behind each job is: the age of its oldest row that is due and waiting."""
    now = services.clock.now()
    oldest = {
        "collection": await Invoice.filter(
            status=InvoiceStatus.OPEN, auto_collect=True, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .first(),
        "renewals": await Subscription.filter(
            status__in=list(RENEWABLE), current_period_end__lte=now
        )
        .order_by("current_period_end")
        .first(),
        "outbox": await OutboxMessage.filter(status="PENDING", next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .first(),
    }
    for job, row in oldest.items():
        due = getattr(row, "current_period_end" if job == "renewals" else "next_attempt_at", None)
        metrics.set_job_lag(job, (now - due).total_seconds() if due is not None else 0.0)


async def run_worker(
    services: ServiceContext, smtp: SmtpConfig, interval_s: float, stop: asyncio.Event
) -> None:
    log.info("worker started (every %.1fs)", interval_s)
    while not stop.is_set():
        report = await tick(services, smtp)
        if any(vars(report).values()):
            log.info("worker tick: %s", report)
        try:  # asyncio.timeout: a cancel is never lost, as in wait_for on 3.11
            async with asyncio.timeout(interval_s):
                await stop.wait()
        except TimeoutError:
            pass
    log.info("worker stopped")
