"""Usage notifications: fired once per account, meter, period and threshold.

Ingestion hands over each total it moved (old → new, in its transaction). A threshold
fires when that move crosses it; the notification row is inserted with
`ON CONFLICT DO NOTHING RETURNING`, so of two batches that both believe they crossed,
only the one whose row went in sends anything: the unique key is the guard, not the
arithmetic. The email goes into the outbox in the same transaction.

Thresholds lowered below today's usage do not fire for the current period: a
notification reports a crossing, not a level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import Account, NotificationKind, PlanTier, UsageNotificationSetting
from models.events import BillingEventType as EV
from services import notifications
from services.auth import Principal
from services.context import ServiceContext
from services.errors import InvalidInput
from services.events import log as events
from services.money import Money
from services.usage import from_micros
from services.usage.rating import Allowance, OverageState, line_amount
from services.usage.reading import DEFAULT_THRESHOLDS, notification_settings
from services.usage.sql import Dialect

MAX_THRESHOLDS = 10
THRESHOLD_RANGE = (1, 1000)


@dataclass(frozen=True)
class Crossing:
    """One period total that a batch moved, with what applied when it did."""

    account_id: int
    allowance: Allowance
    period_start: datetime
    old_micros: int
    new_micros: int
    old_overage_micros: int
    new_overage_micros: int
    overage: OverageState


@dataclass(frozen=True)
class Fired:
    kind: NotificationKind
    threshold: int
    headline: str
    message: str
    action: str


def _quantity(micros: int, allowance: Allowance) -> str:
    return f"{from_micros(micros):,} {allowance.meter_name.lower()}"


def _call_to_action(tier: PlanTier, overage: OverageState, kind: NotificationKind) -> str:
    """The button: what the customer can do about it (Free: upgrade; paid: overage or cap)."""
    if tier is PlanTier.FREE:
        return "Upgrade your plan"
    if tier is PlanTier.ENTERPRISE:
        return "Contact your account team"
    if kind is NotificationKind.OVERAGE_CAP_REACHED or (overage.enabled and overage.cap):
        return "Raise your overage cap"
    if overage.enabled:
        return "Review your usage"
    return "Turn on overage"


def _advice(a: Allowance, tier: PlanTier, overage: OverageState, currency: str) -> str:
    """The sentence after a threshold: what happens next, and what to do, by plan."""
    if tier is PlanTier.FREE:
        return f"Upgrade your plan for more {a.meter_name.lower()}."
    if tier is PlanTier.ENTERPRISE or a.overage_unit_amount is None:
        return "Contact your account team for more."
    if not overage.enabled:
        return "Turn on overage to keep going past your allowance."
    unit = Money(a.overage_unit_amount, currency).format()
    if overage.cap is None:
        return f"Overage is on: usage past your allowance is billed at {unit} a {a.meter_unit}."
    cap = Money(overage.cap, currency).format()
    return f"Overage is on up to your cap of {cap}; raise the cap if you need more."


def what_fired(
    crossing: Crossing, thresholds: list[int], tier: PlanTier, currency: str
) -> list[Fired]:
    """The notifications a move of a total calls for (pure; the database dedupes)."""
    a, c = crossing.allowance, crossing
    fired: list[Fired] = []
    included = _quantity(a.included_micros, a)
    for threshold in sorted(set(thresholds)):
        level = a.included_micros * threshold
        if a.included_micros > 0 and c.old_micros * 100 < level <= c.new_micros * 100:
            kind = NotificationKind.USAGE_THRESHOLD
            action = _call_to_action(tier, c.overage, kind)
            fired.append(
                Fired(
                    kind,
                    threshold,
                    f"You have used {threshold}% of your {a.meter_name.lower()}",
                    f"You have used {threshold}% of the {included} in your plan this period"
                    f" ({_quantity(c.new_micros, a)}). {_advice(a, tier, c.overage, currency)}",
                    action,
                )
            )
    price = a.overage_unit_amount
    if price is not None and c.old_overage_micros == 0 < c.new_overage_micros:
        kind = NotificationKind.OVERAGE_STARTED
        unit = Money(price, currency).format()
        cap = c.overage.cap
        limit = f", up to your cap of {Money(cap, currency).format()}" if cap is not None else ""
        action = _call_to_action(tier, c.overage, kind)
        fired.append(
            Fired(
                kind,
                0,
                "Overage has started",
                f"You are past the {included} in your plan: usage is billed at {unit}"
                f" a {a.meter_unit}{limit}.",
                action,
            )
        )
    cap = c.overage.cap
    if price is not None and cap is not None and c.overage.enabled:
        before = line_amount(c.old_overage_micros, price)
        after = line_amount(c.new_overage_micros, price)
        if before < cap <= after:
            kind = NotificationKind.OVERAGE_CAP_REACHED
            fired.append(
                Fired(
                    kind,
                    0,
                    "Your overage cap is reached",
                    f"Your overage cap of {Money(cap, currency).format()} is reached:"
                    f" {a.meter_name.lower()} are blocked until the next period."
                    " Raise your cap to keep going.",
                    _call_to_action(tier, c.overage, kind),
                )
            )
    return fired


async def fire_crossings(
    ctx: ServiceContext,
    conn: BaseDBAsyncClient,
    crossings: list[Crossing],
    accounts: dict[int, Account],
    now: datetime,
) -> None:
    """Inside the ingest transaction: insert what fired, email what went in."""
    moved = [c for c in crossings if c.new_micros > c.old_micros]
    if not moved:
        return
    settings = {
        s.account_id: s
        for s in await UsageNotificationSetting.filter(
            account_id__in=sorted({c.account_id for c in moved})
        )
    }
    candidates: list[tuple[Crossing, Fired]] = []
    for c in moved:
        setting = settings.get(c.account_id)
        thresholds = list(DEFAULT_THRESHOLDS) if setting is None else list(setting.thresholds)
        account = accounts[c.account_id]
        for fired in what_fired(c, thresholds, account.tier, account.currency):
            candidates.append((c, fired))
    if not candidates:
        return
    sql = Dialect.of(conn)
    values: list[Any] = []
    for c, f in candidates:
        values += [
            c.account_id,
            f.kind.value,
            c.allowance.meter_id,
            sql.dt(c.period_start),
            f.threshold,
            f.message[:500],
            sql.dt(now),
        ]
    inserted = await conn.execute_query_dict(
        "INSERT INTO notification (account_id, kind, meter_id, period_start, threshold,"  # noqa: S608
        " message, created_at) VALUES "
        + sql.rows(len(candidates), 7)
        + " ON CONFLICT (account_id, meter_id, period_start, kind, threshold) DO NOTHING"
        " RETURNING id, account_id, kind, meter_id, threshold",
        values,
    )
    by_key = {
        (c.account_id, f.kind.value, c.allowance.meter_id, f.threshold): f for c, f in candidates
    }
    for row in inserted:
        account = accounts[int(row["account_id"])]
        fired = by_key[(account.id, str(row["kind"]), int(row["meter_id"]), int(row["threshold"]))]
        await events.append(
            EV.USAGE_THRESHOLD_REACHED,
            account_id=account.id,
            notification_id=int(row["id"]),
            now=now,
            data={"kind": fired.kind.value, "threshold": fired.threshold},
        )
        setting = settings.get(account.id)
        if setting is not None and not setting.email:
            continue
        await notifications.enqueue(
            template="usage_notification",
            account=account,
            dedupe_key=f"usage-notification:{row['id']}",
            context={
                "headline": fired.headline,
                "message": fired.message,
                "action": fired.action,
                "portal_url": ctx.policy.portal_url,
            },
            now=now,
        )


async def update_usage_notifications(
    ctx: ServiceContext,
    principal: Principal,
    account: Account,
    *,
    thresholds: list[int] | None,
    email: bool | None,
) -> tuple[list[int], bool]:
    """Set the thresholds (up to 10 values, 1-1000 %) and/or the email switch.

    The caller has checked the account is writable by this principal; viewers and
    partners without write access get PermissionDenied there.
    """
    del principal
    current, current_email = await notification_settings(account.id)
    if thresholds is not None:
        if len(thresholds) > MAX_THRESHOLDS:
            raise InvalidInput(f"At most {MAX_THRESHOLDS} thresholds.", field="thresholds")
        low, high = THRESHOLD_RANGE
        if any(not low <= t <= high for t in thresholds):
            raise InvalidInput(
                f"Thresholds are percentages from {low} to {high}.", field="thresholds"
            )
        current = sorted(set(thresholds))
    if email is not None:
        current_email = email
    now = ctx.clock.now()
    async with in_transaction():
        updated = await UsageNotificationSetting.filter(account_id=account.id).update(
            thresholds=current, email=current_email, updated_at=now
        )
        if not updated:
            await UsageNotificationSetting.bulk_create(
                [
                    UsageNotificationSetting(
                        account_id=account.id,
                        thresholds=current,
                        email=current_email,
                        updated_at=now,
                    )
                ],
                ignore_conflicts=True,
            )
            await UsageNotificationSetting.filter(account_id=account.id).update(
                thresholds=current, email=current_email, updated_at=now
            )
    return current, current_email
