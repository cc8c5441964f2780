"""Outgoing webhooks: endpoints, and the worker's dispatch and delivery from the event log.

- Endpoints: an admin registers one for its account; a partner for one of its accounts
  or for all of them (decided per event, from the grants its key has then). The secret
  is returned once; a rotation keeps the old one signing beside the new for a day.
- Dispatch: the worker reads the log after its cursor (one row, locked while it works)
  and writes one PENDING delivery per matching endpoint, in one transaction with the
  cursor's move, so each event reaches each endpoint exactly once as a row.
- Delivery: rows are claimed with `FOR UPDATE SKIP LOCKED` and a lease (services/jobs),
  POSTed outside any transaction, and the outcome recorded only while the lease is still
  ours. A worker killed mid-POST leaves the row due again when the lease ends: delivery
  is at-least-once and receivers dedupe by `webhook-id` (the event's ID).
- Retries: about 5 s after the first failure, then growing gaps, for about 3 days. An
  endpoint failing for `DISABLE_AFTER` is disabled and its owner emailed.
- Payload: thin and immutable — the type, when, and the IDs of the objects involved
  (GraphQL IDs), so every retry sends the same bytes; receivers read details over GraphQL.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from tortoise.transactions import in_transaction

from models import Account, PartnerAccess
from models.events import (
    BillingEvent,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookDispatchCursor,
    WebhookEndpoint,
)
from services import notifications
from services.auth import active_keys
from services.events import log
from services.events.targets import (
    GuardedResolver,
    TargetPolicy,
    TargetRefused,
    check_url,
    resolve_checked,
    signature,
)
from services.jobs import claim
from services.policy import BillingPolicy

_log = logging.getLogger(__name__)

#: Gap before each retry after the n-th failed attempt: ~5 s first, ~3 days in all.
RETRY_GAPS = tuple(
    timedelta(seconds=s)
    for s in (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200, 43200, 43200, 43200, 43200)
)
#: An endpoint that has failed without a success for this long is disabled.
DISABLE_AFTER = timedelta(days=3)
#: How long a claimed delivery is ours; past it another worker sends it again.
LEASE = timedelta(seconds=60)
TIMEOUT_S = 10.0


def global_id(type_name: str, pk: int) -> str:
    """The GraphQL ID of a record (the same encoding as resolvers/ids.py)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def dotted(event_type: str) -> str:
    """INVOICE_PAID -> invoice.paid; PAYMENT_METHOD_ADDED -> payment_method.added."""
    head, _, tail = event_type.lower().rpartition("_")
    return f"{head}.{tail}"


def payload(event: BillingEvent) -> str:
    data: dict[str, object] = {
        "id": global_id("BillingEvent", event.id),
        "account": global_id("Account", event.account_id),
    }
    for name, type_name in (
        ("invoice_id", "Invoice"),
        ("payment_id", "Payment"),
        ("payment_method_id", "PaymentMethod"),
        ("subscription_id", "Subscription"),
        ("notification_id", "Notification"),
    ):
        pk = getattr(event, name)
        if pk is not None:
            data[name[: -len("_id")].replace("_m", "M")] = global_id(type_name, pk)
    data.update(event.data or {})
    body = {"type": dotted(event.type), "timestamp": event.occurred_at.isoformat(), "data": data}
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


async def _partner_accounts(owner: str, now: datetime) -> set[int]:
    keys = await active_keys(now).filter(principal=owner).values_list("id", flat=True)
    grants = await PartnerAccess.filter(api_key_id__in=list(keys)).values_list(
        "account_id", flat=True
    )
    return {int(str(a)) for a in grants}


def _wants(endpoint: WebhookEndpoint, event: BillingEvent, reach: set[int] | None) -> bool:
    if event.occurred_at < endpoint.created_at:
        return False  # endpoints receive what happens after they were registered
    if endpoint.types and event.type not in endpoint.types:
        return False
    if endpoint.account_id is not None and event.account_id != endpoint.account_id:
        return False
    return reach is None or event.account_id in reach


async def dispatch(now: datetime, *, limit: int = 500) -> int:
    """Turn the log after the dispatch cursor into deliveries; returns how many events."""
    await WebhookDispatchCursor.bulk_create([WebhookDispatchCursor(id=1)], ignore_conflicts=True)
    async with in_transaction():
        cursor = await WebhookDispatchCursor.select_for_update().get(id=1)
        events = await log.read_after(
            log.Position(cursor.txid, cursor.event_id), account_ids=None, limit=limit
        )
        if not events:
            return 0
        endpoints = await WebhookEndpoint.filter(enabled=True, deleted_at=None)
        # A partner reaches the accounts its active keys are granted now (also for an
        # endpoint that names one account: a grant taken back stops its deliveries).
        reach = {
            e.owner_principal: await _partner_accounts(e.owner_principal, now)
            for e in endpoints
            if not e.owner_principal.startswith("account:")
        }
        rows = [
            WebhookDelivery(endpoint_id=ep.id, event_id=ev.id, next_attempt_at=now, created_at=now)
            for ev in events
            for ep in endpoints
            if _wants(ep, ev, reach.get(ep.owner_principal))
        ]
        if rows:
            await WebhookDelivery.bulk_create(rows, ignore_conflicts=True)
        last = log.Position.of(events[-1])
        await WebhookDispatchCursor.filter(id=1).update(txid=last.txid, event_id=last.id)
    return len(events)


@dataclass
class DeliveryReport:
    attempted: int = 0
    succeeded: int = 0
    failed: int = 0


async def deliver_due(now: datetime, policy: TargetPolicy, *, limit: int = 20) -> DeliveryReport:
    """Send the due deliveries (at most `limit`, concurrently) and record each outcome."""
    lease = now + LEASE
    claimed = await claim(
        WebhookDelivery.filter(status=WebhookDeliveryStatus.PENDING, next_attempt_at__lte=now),
        lease_until=lease,
        limit=limit,
    )
    report = DeliveryReport(attempted=len(claimed))
    if not claimed:
        return report
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(policy), force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        outcomes = await asyncio.gather(
            *(_send(session, row, now, policy) for row in claimed), return_exceptions=True
        )
    for row, outcome in zip(claimed, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            outcome = (None, f"internal error: {type(outcome).__name__}", 0)
        ok = await _record(row, lease, now, *outcome)
        if ok:
            report.succeeded += 1
        else:
            report.failed += 1
    return report


async def _send(
    session: aiohttp.ClientSession, row: WebhookDelivery, now: datetime, policy: TargetPolicy
) -> tuple[int | None, str | None, int]:
    endpoint = await WebhookEndpoint.get(id=row.endpoint_id)
    if not endpoint.enabled or endpoint.deleted_at is not None:
        return None, "endpoint disabled", 0
    try:
        # Host names are checked by GuardedResolver on the addresses it connects to;
        # aiohttp never resolves an IP literal, so that one is checked here.
        host, port = check_url(endpoint.url, policy)
        if _is_ip(host):
            await resolve_checked(host, port, policy)
    except TargetRefused as exc:
        return None, f"refused: {exc}", 0
    event = await BillingEvent.get(id=row.event_id)
    body = payload(event)
    msg_id = global_id("BillingEvent", event.id)
    stamp = int(time.time())
    keys = [endpoint.secret]
    if endpoint.previous_secret and (endpoint.previous_secret_expires_at or now) > now:
        keys.append(endpoint.previous_secret)
    headers = {
        "content-type": "application/json",
        "user-agent": "billing-gateway-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature(keys, msg_id, stamp, body),
    }
    started = time.perf_counter()
    try:
        async with session.post(
            endpoint.url,
            data=body.encode(),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=TIMEOUT_S),
            allow_redirects=False,
        ) as response:
            await response.content.read(1024)
            status = response.status
    except TargetRefused as exc:
        return None, f"refused: {exc}", 0
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, TargetRefused) else exc
        message = f"refused: {cause}" if isinstance(cause, TargetRefused) else type(exc).__name__
        return None, message, int((time.perf_counter() - started) * 1000)
    elapsed = int((time.perf_counter() - started) * 1000)
    return status, None if 200 <= status < 300 else f"HTTP {status}", elapsed


async def _record(
    row: WebhookDelivery,
    lease: datetime,
    now: datetime,
    status: int | None,
    error: str | None,
    elapsed_ms: int,
) -> bool:
    succeeded = error is None
    attempts = row.attempts + 1
    gap = RETRY_GAPS[attempts - 1] if attempts <= len(RETRY_GAPS) else None
    final = succeeded or gap is None or error in ("endpoint disabled",)
    entry = {"at": now.isoformat(), "status": status, "error": error, "ms": elapsed_ms}
    async with in_transaction():
        # Only while the lease is ours: a worker that outlived it leaves the row alone.
        changed = await WebhookDelivery.filter(
            id=row.id, status=WebhookDeliveryStatus.PENDING, next_attempt_at=lease
        ).update(
            status=(
                WebhookDeliveryStatus.SUCCEEDED
                if succeeded
                else WebhookDeliveryStatus.FAILED
                if final
                else WebhookDeliveryStatus.PENDING
            ),
            attempts=attempts,
            last_attempt_at=now,
            response_status=status,
            last_error=error,
            next_attempt_at=None if final else now + (gap or timedelta(0)),
            attempt_log=[*row.attempt_log, entry][-20:],
        )
        if not changed:
            return succeeded
        if succeeded:
            await (
                WebhookEndpoint.filter(id=row.endpoint_id)
                .exclude(failing_since=None)
                .update(failing_since=None)
            )
        else:
            await _note_failure(row.endpoint_id, now)
    return succeeded


async def _note_failure(endpoint_id: int, now: datetime) -> None:
    """Inside the record transaction: start (or extend) the endpoint's failing streak, and
    disable it once the streak is DISABLE_AFTER long."""
    await WebhookEndpoint.filter(id=endpoint_id, failing_since=None).update(failing_since=now)
    endpoint = await WebhookEndpoint.get(id=endpoint_id)
    if not endpoint.enabled or endpoint.failing_since is None:
        return
    if now - endpoint.failing_since < DISABLE_AFTER:
        return
    disabled = await WebhookEndpoint.filter(id=endpoint_id, enabled=True).update(
        enabled=False,
        disabled_reason=f"Every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC.",
    )
    if not disabled:
        return
    await WebhookDelivery.filter(
        endpoint_id=endpoint_id, status=WebhookDeliveryStatus.PENDING
    ).update(
        status=WebhookDeliveryStatus.FAILED, next_attempt_at=None, last_error="endpoint disabled"
    )
    if endpoint.account_id is not None and endpoint.owner_email:
        account = await Account.get(id=endpoint.account_id)
        await notifications.enqueue(
            template="webhook_endpoint_disabled",
            account=account,
            dedupe_key=f"webhook-disabled:{endpoint_id}:{endpoint.failing_since.isoformat()}",
            context={"url": endpoint.url, "since": f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC"},
            now=now,
        )
    else:
        _log.warning("webhook endpoint %s disabled after failing for days", endpoint_id)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def target_policy(policy: BillingPolicy) -> TargetPolicy:
    return TargetPolicy(
        require_https=policy.webhook_require_https, allowed=policy.webhook_allowed_targets
    )


async def run(now: datetime, policy: BillingPolicy, *, rounds: int = 5) -> int:
    """The worker's step: dispatch new events, then send what is due; attempts made."""
    attempts = 0
    for _ in range(rounds):
        await dispatch(now)
        report = await deliver_due(now, target_policy(policy))
        attempts += report.attempted
        if report.attempted == 0:
            break
    return attempts
