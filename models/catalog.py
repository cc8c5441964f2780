"""Plans on offer and the subscription that puts an account on one."""

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account
from models.enums import BillingInterval, CancellationReason, PlanTier, SubscriptionStatus


class Plan(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    tier = fields.CharEnumField(PlanTier, max_length=16)
    price_amount = fields.BigIntField()  # minor units
    currency = fields.CharField(max_length=3, default="USD")
    interval = fields.CharEnumField(BillingInterval, max_length=8, default=BillingInterval.MONTH)

    class Meta:
        table = "plan"


class Subscription(Model):
    """One current subscription per account (the unique account column is the guard)."""

    id = fields.IntField(primary_key=True)
    account_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="subscriptions", on_delete=fields.CASCADE
    )
    plan_id: int
    plan: fields.ForeignKeyRelation[Plan] = fields.ForeignKeyField(
        "models.Plan", related_name="subscriptions", on_delete=fields.RESTRICT
    )
    status = fields.CharEnumField(SubscriptionStatus, max_length=16)
    current_period_start = fields.DatetimeField()
    current_period_end = fields.DatetimeField()
    #: The day of the month periods end on (1-31), clamped in short months.
    billing_anchor_day = fields.SmallIntField(null=True)
    past_due_since = fields.DatetimeField(null=True)
    canceled_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    #: A downgrade waiting for the period end (applied by the renewal, exactly once).
    pending_plan_id: int | None
    pending_plan: fields.ForeignKeyNullableRelation[Plan] = fields.ForeignKeyField(
        "models.Plan", related_name="pending_subscriptions", null=True, on_delete=fields.RESTRICT
    )
    #: Canceled by the customer: paid features stay on until the period end, then Free.
    cancel_at_period_end = fields.BooleanField(default=False)
    cancellation_reason = fields.CharEnumField(CancellationReason, max_length=32, null=True)
    cancellation_comment = fields.CharField(max_length=500, null=True)
    cancel_requested_at = fields.DatetimeField(null=True)

    class Meta:
        table = "subscription"
        unique_together = (("account",),)
