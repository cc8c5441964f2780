"""Usage ingestion: validate a batch, insert it in one statement, keep the totals.

Each event ends ACCEPTED, DUPLICATE or REJECTED (with a reason); nothing is half
applied. The batch runs in one transaction:

1. the accounts' subscriptions are read (FOR SHARE on PostgreSQL: a renewal, which
   takes them FOR UPDATE SKIP LOCKED, cannot close a period under a batch that is
   adding to it, and after it has closed, the batch sees the new period);
2. one multi-row `INSERT ... ON CONFLICT (account_id, event_id) DO NOTHING RETURNING`:
   the rows it returns are ACCEPTED, the others were there already (DUPLICATE), also
   when two copies race (the unique key decides, the loser waits and skips);
3. one multi-row upsert adds the accepted quantities to the per-period totals and
   returns the new sums, so the old ones are known exactly (the row lock orders
   concurrent batches);
4. overage accrues and thresholds fire from those old → new sums
   (services/usage/thresholds.py), in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import (
    Account,
    ApiKeyRole,
    Meter,
    OverageSetting,
    Plan,
    Subscription,
    SubscriptionStatus,
    UsagePeriodTotal,
)
from services.auth import Principal
from services.context import ServiceContext
from services.errors import InvalidInput, PermissionDenied
from services.renewals import add_interval
from services.usage import to_micros
from services.usage.rating import Allowance, OverageState, cap_quantity_micros
from services.usage.reading import allowances_by_plan, overage_settings, overage_state
from services.usage.sql import Dialect, as_datetime
from services.usage.thresholds import Crossing, fire_crossings

MAX_BATCH = 1_000
MAX_ID_LENGTH = 255
MAX_QUANTITY = Decimal(10) ** 9  # per event: totals stay far inside BIGINT micros
#: Where a period's total (per account and meter) stops: an event that would pass it is
#: REJECTED. Far below what the BIGINT column of millionths holds (about 9.2 x 10^12
#: credits), with room for several full batches racing past the check at once.
MAX_PERIOD_TOTAL = Decimal(10) ** 12
FUTURE_TOLERANCE = timedelta(minutes=5)
ACCEPTED, DUPLICATE, REJECTED = "ACCEPTED", "DUPLICATE", "REJECTED"


@dataclass(frozen=True)
class EventIn:
    """One reported event as received; `account_id` None is an account we do not know."""

    account_id: int | None
    id: Any
    meter: Any
    quantity: Any
    timestamp: datetime | None = None
    #: Set by the caller when the event is already known bad (e.g. an unreadable
    #: timestamp in the HTTP body): it is REJECTED with this reason.
    problem: str | None = None


@dataclass(frozen=True)
class EventResult:
    id: str
    status: str
    reason: str | None = None


@dataclass
class _Row:
    index: int
    account_id: int
    event_id: str
    meter_id: int
    micros: int
    occurred_at: datetime
    period_start: datetime
    period_end: datetime


def require_service(principal: Principal) -> None:
    """Only the product's backend reports usage: customer and partner keys never do."""
    if principal.role is not ApiKeyRole.SERVICE:
        raise PermissionDenied("Only a service key may report usage.")


def _parse_quantity(raw: Any) -> tuple[int | None, str | None]:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        return None, "quantity is not a number"
    try:
        value = Decimal(str(raw).strip()) if not isinstance(raw, Decimal) else raw
    except InvalidOperation:
        return None, "quantity is not a number"
    if not value.is_finite():
        return None, "quantity is not a number"
    if value < 0:
        return None, "quantity is negative"
    if value >= MAX_QUANTITY:
        return None, "quantity is too large"
    try:
        return to_micros(value), None
    except ValueError:
        return None, "quantity has more than six decimal places"


def _period_of(sub: Subscription, interval: Any, ts: datetime) -> tuple[datetime, datetime] | None:
    """The period `ts` counts in, or None when that period is already invoiced."""
    start, end = sub.current_period_start, sub.current_period_end
    if ts < start:
        return None
    anchor = sub.billing_anchor_day or end.day
    for _ in range(24):  # a renewal not run yet: the periods after the current one
        if ts < end:
            return start, end
        start, end = end, add_interval(end, interval, anchor)
    return None


async def report_usage(
    ctx: ServiceContext, principal: Principal, events: list[EventIn]
) -> list[EventResult]:
    require_service(principal)
    if len(events) > MAX_BATCH:
        raise InvalidInput(
            f"At most {MAX_BATCH} events per request; send the rest in another.", field="events"
        )
    now = ctx.clock.now()
    results: list[EventResult | None] = [None] * len(events)
    meters = {m.code: m for m in await Meter.all()} if events else {}
    account_ids = sorted({e.account_id for e in events if e.account_id is not None})
    async with in_transaction() as conn:
        subs = await _subscriptions(conn, account_ids)
        accounts = (
            {a.id: a for a in await Account.filter(id__in=account_ids)} if account_ids else {}
        )
        plans = await _plans(subs)
        allowances = await allowances_by_plan(s.plan_id for s in subs.values())
        rows = _validate(events, results, now, meters, subs, plans, allowances, set(accounts))
        rows = await _under_ceiling(rows, results)
        accepted = await _insert_events(conn, rows, now)
        for row in rows:
            duplicate = (row.account_id, row.event_id) not in accepted
            results[row.index] = EventResult(row.event_id, DUPLICATE if duplicate else ACCEPTED)
        inserted = [r for r in rows if (r.account_id, r.event_id) in accepted]
        if inserted:
            settings = await overage_settings({r.account_id for r in inserted})
            crossings = await _add_to_totals(
                conn, inserted, now, subs, accounts, allowances, settings
            )
            await fire_crossings(ctx, conn, crossings, accounts, now)
    return [r for r in results if r is not None]


async def _subscriptions(
    conn: BaseDBAsyncClient, account_ids: list[int]
) -> dict[int, Subscription]:
    if not account_ids:
        return {}
    query = Subscription.filter(account_id__in=account_ids).exclude(
        status=SubscriptionStatus.CANCELED
    )
    if Dialect.of(conn).postgres:
        # FOR SHARE: batches run side by side, a renewal (FOR UPDATE) waits for them.
        ids = [
            r["id"]
            for r in (
                await conn.execute_query(
                    "SELECT id FROM subscription WHERE account_id = ANY($1) FOR SHARE",
                    [account_ids],
                )
            )[1]
        ]
        query = Subscription.filter(id__in=ids).exclude(status=SubscriptionStatus.CANCELED)
    return {s.account_id: s for s in await query}


async def _plans(subs: dict[int, Subscription]) -> dict[int, Plan]:
    ids = sorted({s.plan_id for s in subs.values()})
    return {p.id: p for p in await Plan.filter(id__in=ids)} if ids else {}


def _validate(
    events: list[EventIn],
    results: list[EventResult | None],
    now: datetime,
    meters: dict[str, Meter],
    subs: dict[int, Subscription],
    plans: dict[int, Plan],
    allowances: dict[int, list[Allowance]],
    known_accounts: set[int],
) -> list[_Row]:
    rows: list[_Row] = []
    seen: set[tuple[int, str]] = set()
    for index, event in enumerate(events):
        event_id = event.id if isinstance(event.id, str) else str(event.id or "")

        def reject(reason: str, index: int = index, event_id: str = event_id) -> None:
            results[index] = EventResult(event_id, REJECTED, reason)

        if (
            event.id is None
            or event.id == ""
            or (isinstance(event.id, str) and not event.id.strip())
        ):
            reject("id is required")
            continue
        if not isinstance(event.id, str):
            reject("id must be a string")
            continue
        if event.problem is not None:
            reject(event.problem)
            continue
        if len(event_id) > MAX_ID_LENGTH:
            reject(f"id is longer than {MAX_ID_LENGTH} characters")
            continue
        micros, problem = _parse_quantity(event.quantity)
        if micros is None:
            reject(problem or "quantity is not a number")
            continue
        meter = meters.get(event.meter) if isinstance(event.meter, str) else None
        sub = subs.get(event.account_id) if event.account_id is not None else None
        if event.account_id is None or event.account_id not in known_accounts:
            reject("unknown account")
            continue
        if sub is None:
            reject("the account has no active subscription")
            continue
        allowance = next(
            (a for a in allowances.get(sub.plan_id, []) if meter and a.meter_id == meter.id), None
        )
        if meter is None or allowance is None:
            reject(f"unknown meter {str(event.meter)[:64]!r}")
            continue
        ts = event.timestamp or now
        if ts.tzinfo is None:
            reject("timestamp needs a time zone")
            continue
        if ts > now + FUTURE_TOLERANCE:
            reject("timestamp is more than 5 minutes in the future")
            continue
        period = _period_of(sub, plans[sub.plan_id].interval, ts)
        if period is None:
            reject(
                "timestamp is before the subscription started"
                if ts < sub.created_at
                else "timestamp falls in a period that is already invoiced"
            )
            continue
        key = (event.account_id, event_id)
        if key in seen:
            results[index] = EventResult(event_id, DUPLICATE)
            continue
        seen.add(key)
        rows.append(
            _Row(index, event.account_id, event_id, meter.id, micros, ts, period[0], period[1])
        )
    return rows


async def _under_ceiling(rows: list[_Row], results: list[EventResult | None]) -> list[_Row]:
    """The rows that keep their period's total within MAX_PERIOD_TOTAL; the rest are
    REJECTED. Without it a total could overflow its column: a 500 on PostgreSQL for
    every later batch of that account, a silent float on SQLite."""
    if not rows:
        return rows
    ceiling = to_micros(MAX_PERIOD_TOTAL)
    current: dict[tuple[int, int, datetime], int] = {
        (t.account_id, t.meter_id, t.period_start): t.quantity_micros
        for t in await UsagePeriodTotal.filter(
            account_id__in={r.account_id for r in rows},
            period_start__in={r.period_start for r in rows},
        )
    }
    kept: list[_Row] = []
    for row in rows:
        key = (row.account_id, row.meter_id, row.period_start)
        total = current.get(key, 0) + row.micros
        if total > ceiling:
            reason = f"the period's total would pass {MAX_PERIOD_TOTAL:,}"
            results[row.index] = EventResult(row.event_id, REJECTED, reason)
            continue
        current[key] = total
        kept.append(row)
    return kept


async def _insert_events(
    conn: BaseDBAsyncClient, rows: list[_Row], now: datetime
) -> set[tuple[int, str]]:
    """One INSERT for the batch; the keys it inserted (the rest were duplicates)."""
    if not rows:
        return set()
    sql = Dialect.of(conn)
    ordered = sorted(rows, key=lambda r: (r.account_id, r.event_id))  # one lock order
    values: list[Any] = []
    for r in ordered:
        values += [
            r.account_id,
            r.event_id,
            r.meter_id,
            r.micros,
            sql.dt(r.occurred_at),
            sql.dt(r.period_start),
            sql.dt(now),
        ]
    returned = await conn.execute_query_dict(
        "INSERT INTO usage_event (account_id, event_id, meter_id, quantity_micros,"  # noqa: S608
        " occurred_at, period_start, received_at) VALUES "
        + sql.rows(len(ordered), 7)
        + " ON CONFLICT (account_id, event_id) DO NOTHING RETURNING account_id, event_id",
        values,
    )
    return {(int(r["account_id"]), str(r["event_id"])) for r in returned}


async def _add_to_totals(
    conn: BaseDBAsyncClient,
    inserted: list[_Row],
    now: datetime,
    subs: dict[int, Subscription],
    accounts: dict[int, Account],
    allowances: dict[int, list[Allowance]],
    settings: dict[int, OverageSetting],
) -> list[Crossing]:
    sql = Dialect.of(conn)
    groups: dict[tuple[int, int, datetime], int] = defaultdict(int)
    ends: dict[tuple[int, int, datetime], datetime] = {}
    for r in inserted:
        key = (r.account_id, r.meter_id, r.period_start)
        groups[key] += r.micros
        ends[key] = r.period_end
    keys = sorted(groups)
    values: list[Any] = []
    for key in keys:
        account_id, meter_id, start = key
        values += [account_id, meter_id, sql.dt(start), sql.dt(ends[key]), groups[key], sql.dt(now)]
    totals = await conn.execute_query_dict(
        "INSERT INTO usage_period_total (account_id, meter_id, period_start, period_end,"  # noqa: S608
        " quantity_micros, overage_micros, updated_at) VALUES "
        + sql.rows(len(keys), 6, constants={5: "0"})
        + " ON CONFLICT (account_id, meter_id, period_start) DO UPDATE SET"
        " quantity_micros = usage_period_total.quantity_micros + excluded.quantity_micros,"
        " updated_at = excluded.updated_at"
        " RETURNING id, account_id, meter_id, period_start, quantity_micros, overage_micros",
        values,
    )
    crossings: list[Crossing] = []
    for total in totals:
        account_id, meter_id = int(total["account_id"]), int(total["meter_id"])
        key = (account_id, meter_id, as_datetime(total["period_start"]))
        new, old = int(total["quantity_micros"]), int(total["quantity_micros"]) - groups[key]
        account, sub = accounts[account_id], subs[account_id]
        plan_allowances = allowances.get(sub.plan_id, [])
        allowance = next(a for a in plan_allowances if a.meter_id == meter_id)
        state = overage_state(account.tier, plan_allowances, settings.get(account_id))
        old_over = int(total["overage_micros"])
        new_over = _accrue(allowance, state, old, new, old_over)
        if new_over != old_over:
            await conn.execute_query(
                f"UPDATE usage_period_total SET overage_micros = {sql.p(1)}"  # noqa: S608
                f" WHERE id = {sql.p(2)}",
                [new_over, int(total["id"])],
            )
        crossings.append(
            Crossing(
                account_id=account_id,
                allowance=allowance,
                period_start=key[2],
                old_micros=old,
                new_micros=new,
                old_overage_micros=old_over,
                new_overage_micros=new_over,
                overage=state,
            )
        )
    return crossings


def _accrue(allowance: Allowance, state: OverageState, old: int, new: int, over: int) -> int:
    """The billable overage after usage went old → new: only while overage is on, and
    never past what the cap pays for (usage past it is recorded, not billed)."""
    price = allowance.overage_unit_amount
    if not (state.available and state.enabled) or price is None:
        return over
    included = allowance.included_micros
    grown = max(new - included, 0) - max(old - included, 0)
    accrued = over + grown
    if state.cap is not None:
        accrued = min(accrued, cap_quantity_micros(state.cap, price))
    return max(accrued, over)
