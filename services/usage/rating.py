"""Rating a period's usage: pure functions, shared by the reads, ingestion and renewal.

The overage billed for a period is `min(overage quantity * unit price, cap)`: each
meter's line is rounded half-up once, then the lines are clamped, in meter order, to
what is left of the cap, so their sum never passes it by a cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from models import PlanTier
from services.usage import MICROS, round_half_up


@dataclass(frozen=True)
class Allowance:
    """A plan's allowance of one meter."""

    meter_id: int
    meter_code: str
    meter_name: str
    meter_unit: str
    included_micros: int
    overage_unit_amount: int | None  # minor units per unit; None: no overage offered


@dataclass(frozen=True)
class OverageState:
    """The account's overage switch as it applies now (`available` follows the plan)."""

    available: bool
    enabled: bool
    cap: int | None  # minor units per period; None: no cap


@dataclass(frozen=True)
class MeterRating:
    allowance: Allowance
    used_micros: int
    overage_micros: int
    overage_amount: int  # after the cap
    allowed: bool

    @property
    def remaining_micros(self) -> int:
        return max(self.allowance.included_micros - self.used_micros, 0)

    @property
    def percent_used(self) -> float:
        included = self.allowance.included_micros
        if included <= 0:
            return 100.0 if self.used_micros > 0 else 0.0
        return self.used_micros * 100 / included


@dataclass(frozen=True)
class UsageRating:
    period_start: datetime
    period_end: datetime
    currency: str
    meters: list[MeterRating]
    overage: OverageState

    @property
    def overage_amount(self) -> int:
        return sum(m.overage_amount for m in self.meters)

    @property
    def cap_reached(self) -> bool:
        cap = self.overage.cap
        # Reached (usage blocked) only once past an allowance: a $0 cap at 850 of 1,000 is not.
        past_allowance = any(m.used_micros > m.allowance.included_micros for m in self.meters)
        return (
            self.overage.enabled
            and cap is not None
            and self.overage_amount >= cap
            and past_allowance
        )


def overage_available(tier: PlanTier, allowances: list[Allowance]) -> bool:
    """Self-service overage: a paid, non-Enterprise plan whose allowances price it."""
    return tier is PlanTier.PLUS and any(a.overage_unit_amount is not None for a in allowances)


def line_amount(overage_micros: int, unit_amount: int) -> int:
    """One meter's overage in minor units, rounded half-up once."""
    return round_half_up(Decimal(overage_micros) * unit_amount / MICROS)


def cap_quantity_micros(cap: int, unit_amount: int) -> int:
    """The most overage a cap pays for: its line rounds to at most the cap."""
    return cap * MICROS // unit_amount


def rate(
    *,
    period_start: datetime,
    period_end: datetime,
    currency: str,
    allowances: list[Allowance],
    totals: dict[int, tuple[int, int]],
    overage: OverageState,
) -> UsageRating:
    """`totals`: meter id → (used micros, billable overage micros) for the period."""
    left = overage.cap
    meters = []
    raw_total = 0
    for allowance in sorted(allowances, key=lambda a: a.meter_code):
        used, over = totals.get(allowance.meter_id, (0, 0))
        raw = (
            0
            if allowance.overage_unit_amount is None
            else line_amount(over, allowance.overage_unit_amount)
        )
        amount = raw if left is None else min(raw, left)
        if left is not None:
            left -= amount
        raw_total += amount
        meters.append(
            MeterRating(
                allowance=allowance,
                used_micros=used,
                overage_micros=over,
                overage_amount=amount,
                allowed=True,  # set below, once the cap's use is known
            )
        )
    cap_hit = overage.cap is not None and raw_total >= overage.cap
    can_overrun = overage.available and overage.enabled and not cap_hit
    rated = [
        MeterRating(
            allowance=m.allowance,
            used_micros=m.used_micros,
            overage_micros=m.overage_micros,
            overage_amount=m.overage_amount,
            allowed=m.used_micros < m.allowance.included_micros
            or (can_overrun and m.allowance.overage_unit_amount is not None),
        )
        for m in meters
    ]
    return UsageRating(
        period_start=period_start,
        period_end=period_end,
        currency=currency,
        meters=rated,
        overage=overage,
    )
