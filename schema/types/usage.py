"""Usage, overage and usage notifications: what the billing page shows about metering."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import NewType

import strawberry

from models import Notification as NotificationModel
from models import enums
from resolvers.ids import to_global_id
from schema.types.common import Money, Node, PageInfo
from schema.types.enums import described
from services.usage import from_micros
from services.usage.rating import Allowance, MeterRating, UsageRating


def _decimal_out(value: object) -> str:
    return str(value)


def _decimal_in(value: object) -> object:
    """Passed through as sent: the service says what is wrong with a quantity per event
    (REJECTED with a reason) instead of failing the whole request."""
    return value


#: A decimal number carried as a string; `DECIMAL_SCALAR` is its GraphQL definition
#: (registered in the schema's `scalar_map`).
Decimal = NewType("Decimal", str)
DECIMAL_SCALAR = strawberry.scalar(
    name="Decimal",
    description=(
        'A decimal number as a string, e.g. `"1234.5"`, exact (never a float). Quantities '
        "keep up to six decimal places."
    ),
    serialize=_decimal_out,
    parse_value=_decimal_in,
)

NotificationKind = described(
    enums.NotificationKind,
    name="NotificationKind",
    description="Why a usage notification was sent.",
    values={
        "USAGE_THRESHOLD": "Usage crossed one of the account's thresholds (`threshold` %).",
        "OVERAGE_STARTED": "Usage went past the allowance with overage on: it is now billed.",
        "OVERAGE_CAP_REACHED": "The overage cap is reached: further usage is blocked.",
    },
)


@strawberry.enum(description="What became of one reported usage event.")
class UsageEventStatus(Enum):
    ACCEPTED = strawberry.enum_value("ACCEPTED", description="Recorded and counted.")
    DUPLICATE = strawberry.enum_value(
        "DUPLICATE", description="An event with this id was already recorded; counted once."
    )
    REJECTED = strawberry.enum_value(
        "REJECTED", description="Not recorded; `reason` says why. No total changed."
    )


@strawberry.type(description="Something the product meters, e.g. credits.")
class Meter:
    code: str = strawberry.field(description="Stable identifier reported with events: `credits`.")
    name: str = strawberry.field(description="Display name: `Credits`.")
    unit: str = strawberry.field(description="The unit one quantity counts: `credit`.")

    @classmethod
    def from_allowance(cls, allowance: Allowance) -> Meter:
        return cls(code=allowance.meter_code, name=allowance.meter_name, unit=allowance.meter_unit)


@strawberry.type(description="What a plan includes of one meter per billing period.")
class PlanAllowance:
    meter: Meter = strawberry.field(description="The meter.")
    included: Decimal = strawberry.field(
        description="The quantity included per subscription period."
    )
    overage_unit_price: Money | None = strawberry.field(
        description="The price of one unit past `included`; null when the plan offers no overage."
    )

    @classmethod
    def from_value(cls, allowance: Allowance, currency: str) -> PlanAllowance:
        price = allowance.overage_unit_amount
        return cls(
            meter=Meter.from_allowance(allowance),
            included=Decimal(str(from_micros(allowance.included_micros))),
            overage_unit_price=None if price is None else Money.of(price, currency),
        )


@strawberry.type(description="One meter's usage in the current period.")
class MeterUsage:
    meter: Meter = strawberry.field(description="The meter.")
    used: Decimal = strawberry.field(
        description="Everything reported this period, past the allowance included."
    )
    included: Decimal = strawberry.field(description="The plan's allowance for the period.")
    remaining: Decimal = strawberry.field(
        description="What is left of the allowance (0 once used up)."
    )
    percent_used: float = strawberry.field(
        description="`used` as a percentage of `included` (may pass 100)."
    )
    overage_quantity: Decimal = strawberry.field(
        description=(
            "The billable quantity past the allowance: what accrued while overage was on and "
            "under the cap."
        )
    )
    overage_amount: Money = strawberry.field(
        description="What `overageQuantity` costs, rounded half-up once and clamped to the cap."
    )
    allowed: bool = strawberry.field(
        description=(
            "Whether the product should let the customer use more: within the allowance, or "
            "overage on and under its cap."
        )
    )

    @classmethod
    def from_value(cls, meter: MeterRating, currency: str) -> MeterUsage:
        return cls(
            meter=Meter.from_allowance(meter.allowance),
            used=Decimal(str(from_micros(meter.used_micros))),
            included=Decimal(str(from_micros(meter.allowance.included_micros))),
            remaining=Decimal(str(from_micros(meter.remaining_micros))),
            percent_used=round(meter.percent_used, 2),
            overage_quantity=Decimal(str(from_micros(meter.overage_micros))),
            overage_amount=Money.of(meter.overage_amount, currency),
            allowed=meter.allowed,
        )


@strawberry.type(description="Usage in the subscription's current billing period.")
class Usage:
    period_start: datetime = strawberry.field(description="Start of the period (inclusive).")
    period_end: datetime = strawberry.field(description="End of the period (exclusive).")
    meters: list[MeterUsage] = strawberry.field(description="One entry per meter of the plan.")
    overage_amount: Money = strawberry.field(
        description=(
            "The projected overage charge for the period, never above the cap: it goes on the "
            "renewal invoice."
        )
    )

    @classmethod
    def from_value(cls, usage: UsageRating) -> Usage:
        return cls(
            period_start=usage.period_start,
            period_end=usage.period_end,
            meters=[MeterUsage.from_value(m, usage.currency) for m in usage.meters],
            overage_amount=Money.of(usage.overage_amount, usage.currency),
        )


@strawberry.type(description="The account's overage opt-in and its spending cap.")
class OverageSettings:
    available: bool = strawberry.field(
        description="Whether the plan offers self-service overage (paid, non-Enterprise plans)."
    )
    enabled: bool = strawberry.field(description="Whether usage past the allowance is billed.")
    monthly_cap: Money | None = strawberry.field(
        description="The most overage billed per billing period; null: no cap."
    )
    cap_reached: bool = strawberry.field(
        description="True once this period's overage reached the cap: usage is blocked."
    )

    @classmethod
    def from_value(cls, usage: UsageRating | None, currency: str) -> OverageSettings:
        if usage is None:
            return cls(available=False, enabled=False, monthly_cap=None, cap_reached=False)
        cap = usage.overage.cap
        return cls(
            available=usage.overage.available,
            enabled=usage.overage.enabled,
            monthly_cap=None if cap is None else Money.of(cap, currency),
            cap_reached=usage.cap_reached,
        )


@strawberry.type(description="When the account is told about its usage.")
class UsageNotificationSettings:
    thresholds: list[int] = strawberry.field(
        description="Percentages of the allowance that notify when crossed (default 80, 90, 100)."
    )
    email: bool = strawberry.field(description="Whether notifications are also emailed.")


@strawberry.type(description="An in-app notification about the account's usage.")
class Notification(Node):
    kind: NotificationKind = strawberry.field(description="What happened.")
    message: str = strawberry.field(description="The text shown to the customer.")
    created_at: datetime = strawberry.field(description="When it fired.")
    meter: Meter | None = strawberry.field(description="The meter it is about, if any.")
    threshold: int | None = strawberry.field(
        description="The percentage crossed, for USAGE_THRESHOLD; null otherwise."
    )

    @classmethod
    def from_model(cls, note: NotificationModel) -> Notification:
        meter = note.meter
        return cls(
            id=strawberry.ID(to_global_id("Notification", note.id)),
            kind=note.kind,
            message=note.message,
            created_at=note.created_at,
            meter=Meter(code=meter.code, name=meter.name, unit=meter.unit),
            threshold=(
                note.threshold if note.kind is enums.NotificationKind.USAGE_THRESHOLD else None
            ),
        )


@strawberry.type(description="A notification and its cursor.")
class NotificationEdge:
    cursor: str = strawberry.field(description="Pass as `after` to read the ones after it.")
    node: Notification = strawberry.field(description="The notification.")


@strawberry.type(description="The account's notifications, newest first.")
class NotificationConnection:
    edges: list[NotificationEdge] = strawberry.field(description="This page's notifications.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")
    total_count: int = strawberry.field(description="How many notifications the account has.")

    @strawberry.field(description="This page's notifications without their cursors.")
    def nodes(self) -> list[Notification]:
        return [edge.node for edge in self.edges]


@strawberry.type(description="The outcome of one reported event.")
class UsageEventResult:
    id: str = strawberry.field(description="The event's id, as reported.")
    status: UsageEventStatus = strawberry.field(description="Accepted, duplicate or rejected.")
    reason: str | None = strawberry.field(description="Why it was rejected; null otherwise.")
