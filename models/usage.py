"""Usage metering: meters, plan allowances, reported events, per-period totals, and the
overage and notification settings and fired notifications that follow from them.

Quantities are decimals to the API and stored as integer millionths of the meter's
unit (`*_micros`), so sums are exact in SQL on both databases: SQLite has no decimal
arithmetic (it would add text columns as floats).
"""

from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account
from models.catalog import Plan
from models.enums import NotificationKind


class Meter(Model):
    """Something the product counts, e.g. credits. Usage is summed per subscription period."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    unit = fields.CharField(max_length=64)

    class Meta:
        table = "meter"


class PlanAllowance(Model):
    """What a plan includes of one meter per period, and its overage price when offered.

    `overage_unit_amount` is in the plan currency's minor units per unit of the meter
    (4 = $0.04 a credit), NULL when the plan offers no self-service overage.
    """

    id = fields.IntField(primary_key=True)
    plan_id: int
    plan: fields.ForeignKeyRelation[Plan] = fields.ForeignKeyField(
        "models.Plan", related_name="allowances", on_delete=fields.CASCADE
    )
    meter_id: int
    meter: fields.ForeignKeyRelation[Meter] = fields.ForeignKeyField(
        "models.Meter", related_name="allowances", on_delete=fields.RESTRICT
    )
    included_micros = fields.BigIntField()
    overage_unit_amount = fields.BigIntField(null=True)

    class Meta:
        table = "plan_allowance"
        unique_together = (("plan", "meter"),)


class UsageEvent(Model):
    """One reported event. The unique (account, event_id) makes a repeat count once.

    `period_start` is the start of the subscription period it counts in, so a period's
    events can be found (and totals rebuilt) without date arithmetic.
    """

    id = fields.BigIntField(primary_key=True)
    account_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="usage_events", on_delete=fields.CASCADE
    )
    event_id = fields.CharField(max_length=255)
    meter_id: int
    meter: fields.ForeignKeyRelation[Meter] = fields.ForeignKeyField(
        "models.Meter", related_name="events", on_delete=fields.RESTRICT
    )
    quantity_micros = fields.BigIntField()
    occurred_at = fields.DatetimeField()
    period_start = fields.DatetimeField()
    received_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "usage_event"
        unique_together = (("account", "event_id"),)


class UsagePeriodTotal(Model):
    """The sum of one meter's usage in one period, updated in the insert's transaction.

    `overage_micros` is the part past the allowance that accrued while overage was on
    (and under the cap): the billable quantity. Usage past the allowance with overage
    off is counted in `quantity_micros` only.
    """

    id = fields.IntField(primary_key=True)
    account_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="usage_totals", on_delete=fields.CASCADE
    )
    meter_id: int
    meter: fields.ForeignKeyRelation[Meter] = fields.ForeignKeyField(
        "models.Meter", related_name="totals", on_delete=fields.RESTRICT
    )
    period_start = fields.DatetimeField()
    period_end = fields.DatetimeField()
    quantity_micros = fields.BigIntField(default=0)
    overage_micros = fields.BigIntField(default=0)
    # Set by the renewal that billed the period: its invoice line (NULL when nothing was
    # due), the amount, and the unit price and cap it was rated under (for the ledger).
    invoiced_at = fields.DatetimeField(null=True)
    invoice_line_id = fields.IntField(null=True)
    billed_amount = fields.BigIntField(null=True)
    billed_unit_amount = fields.BigIntField(null=True)
    billed_cap = fields.BigIntField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "usage_period_total"
        unique_together = (("account", "meter", "period_start"),)


class OverageSetting(Model):
    """An account's overage opt-in and its cap per period (minor units, NULL is no cap)."""

    id = fields.IntField(primary_key=True)
    account_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="overage_settings", on_delete=fields.CASCADE
    )
    enabled = fields.BooleanField(default=False)
    monthly_cap = fields.BigIntField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "overage_setting"
        unique_together = (("account",),)


class UsageNotificationSetting(Model):
    """The percentages of the allowance an account is told about, and whether by email."""

    id = fields.IntField(primary_key=True)
    account_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="usage_notification_settings", on_delete=fields.CASCADE
    )
    thresholds: list[Any] = fields.JSONField(default=list)
    email = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "usage_notification_setting"
        unique_together = (("account",),)


class Notification(Model):
    """An in-app notice. The unique (account, meter, period, kind, threshold) fires it once.

    `threshold` is the percentage for USAGE_THRESHOLD and 0 for the other kinds, so
    the unique key holds without NULLs (which never conflict).
    """

    id = fields.IntField(primary_key=True)
    account_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="notifications", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(NotificationKind, max_length=32)
    meter_id: int
    meter: fields.ForeignKeyRelation[Meter] = fields.ForeignKeyField(
        "models.Meter", related_name="notifications", on_delete=fields.RESTRICT
    )
    period_start = fields.DatetimeField()
    threshold = fields.SmallIntField(default=0)
    message = fields.CharField(max_length=500)
    created_at = fields.DatetimeField()

    class Meta:
        table = "notification"
        unique_together = (("account", "meter", "period_start", "kind", "threshold"),)
        indexes = (("account_id", "created_at"),)
