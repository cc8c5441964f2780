"""Proration for plan changes: pure functions, no database, no clock.

Money is integer minor units, time is counted in whole seconds, and each invoice
line is rounded half-up exactly once (never a sum of rounded pieces). The credit for
the current plan is always computed from that plan's *price* over its period, never
from what a proration charged earlier, so a second upgrade in one period credits
the plan the customer is on, not a fraction of a fraction.

Which way a change goes (DESIGN.md "Plan changes"): a higher tier is an upgrade;
within a tier a longer interval is an upgrade, a shorter one a downgrade (never
compare daily prices: a yearly plan is cheaper per day than the monthly one);
same tier and interval, the higher price is the upgrade. Upgrades happen now,
everything else at the period end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.enums import BillingInterval, PlanTier

_TIER_RANK = {PlanTier.FREE: 0, PlanTier.PLUS: 1, PlanTier.ENTERPRISE: 2}
_INTERVAL_MONTHS = {BillingInterval.MONTH: 1, BillingInterval.YEAR: 12}
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class PlanTerms:
    """What proration needs to know about a plan."""

    name: str
    tier: PlanTier
    price: int  # minor units per period
    interval: BillingInterval


@dataclass(frozen=True)
class Line:
    description: str
    amount: int  # minor units; negative for a credit
    quantity: int = 1

    @property
    def unit_amount(self) -> int:
        return self.amount


@dataclass(frozen=True)
class Proration:
    """An immediate change: the invoice lines and the period the new plan starts."""

    credit: int  # the unused part of the current plan, >= 0 (its line is -credit)
    charge: int  # the new plan for its (remaining or new) period, >= 0
    lines: tuple[Line, ...]
    period_start: datetime
    period_end: datetime
    new_period: bool  # True: a new period starts at the change (interval change, from Free)

    @property
    def amount_due(self) -> int:
        return self.charge - self.credit


def is_upgrade(current: PlanTerms, target: PlanTerms) -> bool:
    """True when the change is immediate (and charged now)."""
    if _TIER_RANK[target.tier] != _TIER_RANK[current.tier]:
        return _TIER_RANK[target.tier] > _TIER_RANK[current.tier]
    if target.interval is not current.interval:
        return _INTERVAL_MONTHS[target.interval] > _INTERVAL_MONTHS[current.interval]
    return target.price > current.price


def seconds(start: datetime, end: datetime) -> int:
    """Whole seconds from start to end (0 when end is not after start)."""
    return max((end - start) // _SECOND, 0)


def prorate(amount: int, part_s: int, whole_s: int) -> int:
    """amount * part / whole, rounded half-up once; part is clamped to [0, whole]."""
    if whole_s <= 0:
        raise ValueError("a period must last at least one second")
    if amount < 0:
        raise ValueError("prices are not negative")
    part = min(max(part_s, 0), whole_s)
    quotient, remainder = divmod(amount * part, whole_s)
    return quotient + (1 if 2 * remainder >= whole_s else 0)


def unused_credit(price: int, period_start: datetime, period_end: datetime, at: datetime) -> int:
    """The current plan's price for the part of its period still to come at `at`."""
    whole = seconds(period_start, period_end)
    if whole == 0:
        return 0
    return prorate(price, seconds(at, period_end), whole)


def _day(at: datetime) -> str:
    return f"{at:%b} {at.day}, {at.year}"


def immediate_change(
    current: PlanTerms | None,
    target: PlanTerms,
    *,
    period_start: datetime | None,
    period_end: datetime | None,
    at: datetime,
    new_period_end: datetime,
) -> Proration:
    """The invoice of an upgrade made at `at`.

    `current` is None when nothing paid is running (no subscription, a canceled one,
    or a period already over): the new plan starts a new period at full price.
    A same-interval upgrade keeps the current period and charges the new plan for
    the rest of it; an interval change starts a new period at the new plan's full
    price (`new_period_end` is where it ends), minus the credit either way.
    """
    running = (
        current is not None
        and period_start is not None
        and period_end is not None
        and period_start <= at < period_end
    )
    if not running or current is None or period_start is None or period_end is None:
        line = Line(f"{target.name}, {_day(at)} to {_day(new_period_end)}", target.price)
        return Proration(0, target.price, (line,), at, new_period_end, new_period=True)
    credit = unused_credit(current.price, period_start, period_end, at)
    lines: list[Line] = []
    if target.interval is current.interval:
        whole = seconds(period_start, period_end)
        charge = prorate(target.price, seconds(at, period_end), whole)
        charge_line = Line(
            f"Remaining time on {target.name} from {_day(at)} to {_day(period_end)}", charge
        )
        start, end, new_period = period_start, period_end, False
    else:
        charge = target.price
        charge_line = Line(f"{target.name}, {_day(at)} to {_day(new_period_end)}", charge)
        start, end, new_period = at, new_period_end, True
    # An upgrade never leaves the customer a balance to carry: the credit is at most
    # the charge (with a sane catalogue it always is: higher tier, longer, or dearer).
    credit = min(credit, charge)
    if credit:
        lines.append(
            Line(f"Unused time on {current.name} from {_day(at)} to {_day(period_end)}", -credit)
        )
    lines.append(charge_line)
    return Proration(credit, charge, tuple(lines), start, end, new_period)
