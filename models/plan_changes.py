"""Plan-change quotes: what a preview promised, so the change charges exactly that."""

from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account
from models.catalog import Plan
from models.enums import PlanChangeTiming
from models.invoices import Invoice


class PlanChangeQuote(Model):
    """A preview of a plan change, valid 15 minutes and usable once, by its account.

    `lines` and `amount_due` are the invoice the change will issue, computed at
    `created_at` (the proration instant). `used_at` is the claim: a conditional UPDATE
    on `used_at IS NULL` lets one changePlan win. `applied_at` is set in the same
    transaction that switches the plan, which for an upgrade is the one that records
    the payment of `invoice`.
    """

    id = fields.IntField(primary_key=True)
    token = fields.CharField(max_length=64, unique=True)
    account_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="plan_change_quotes", on_delete=fields.CASCADE
    )
    subscription_id = fields.IntField(null=True)
    from_plan_id = fields.IntField(null=True)
    to_plan_id: int
    to_plan: fields.ForeignKeyRelation[Plan] = fields.ForeignKeyField(
        "models.Plan", related_name="quotes", on_delete=fields.CASCADE
    )
    timing = fields.CharEnumField(PlanChangeTiming, max_length=16)
    #: The subscription's period when quoted: the quote holds only while it is unchanged.
    current_period_end = fields.DatetimeField(null=True)
    #: The period the new plan runs for once an immediate change is paid.
    period_start = fields.DatetimeField()
    period_end = fields.DatetimeField()
    new_period = fields.BooleanField(default=False)
    currency = fields.CharField(max_length=3)
    amount_due = fields.BigIntField()
    lines: list[dict[str, Any]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    client_idempotency_key = fields.CharField(max_length=128, null=True)
    request_fingerprint = fields.CharField(max_length=64, null=True)
    invoice_id: int | None
    invoice: fields.ForeignKeyNullableRelation[Invoice] = fields.ForeignKeyField(
        "models.Invoice", related_name="plan_change_quotes", null=True, on_delete=fields.SET_NULL
    )
    applied_at = fields.DatetimeField(null=True)

    class Meta:
        table = "plan_change_quote"
        unique_together = (("account", "client_idempotency_key"),)
