"""Invoices, their lines, and the payments made against them."""

from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account
from models.catalog import Subscription
from models.enums import InvoiceStatus, PaymentStatus
from models.payment_methods import PaymentMethod


class Invoice(Model):
    """A bill. Once issued (OPEN or later) its lines, totals and billing snapshot never change.

    `active_payment` is the claim: a payment that has not settled yet holds it, and
    only one caller can set it (a conditional UPDATE on `active_payment_id IS NULL`).
    """

    id = fields.IntField(primary_key=True)
    account_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="invoices", on_delete=fields.CASCADE
    )
    subscription_id: int | None
    subscription: fields.ForeignKeyNullableRelation[Subscription] = fields.ForeignKeyField(
        "models.Subscription", related_name="invoices", null=True, on_delete=fields.SET_NULL
    )
    number = fields.CharField(max_length=32, null=True, unique=True)
    status = fields.CharEnumField(InvoiceStatus, max_length=16, default=InvoiceStatus.DRAFT)
    currency = fields.CharField(max_length=3, default="USD")
    period_start = fields.DatetimeField()
    period_end = fields.DatetimeField()
    issued_at = fields.DatetimeField(null=True)
    due_at = fields.DatetimeField(null=True)
    paid_at = fields.DatetimeField(null=True)
    subtotal = fields.BigIntField(default=0)
    tax = fields.BigIntField(default=0)
    total = fields.BigIntField(default=0)
    amount_paid = fields.BigIntField(default=0)
    billing_snapshot: dict[str, Any] | None = fields.JSONField(null=True)
    active_payment_id = fields.IntField(null=True)
    # Collection by the worker (renewals and dunning retries).
    auto_collect = fields.BooleanField(default=False)
    next_attempt_at = fields.DatetimeField(null=True, db_index=True)
    collection_attempts = fields.IntField(default=0)
    first_failed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "invoice"
        indexes = (("account_id", "period_start"),)

    @property
    def amount_due(self) -> int:
        return max(int(self.total) - int(self.amount_paid), 0)


class InvoiceLine(Model):
    id = fields.IntField(primary_key=True)
    invoice_id: int
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "models.Invoice", related_name="lines", on_delete=fields.CASCADE
    )
    position = fields.SmallIntField(default=0)
    description = fields.CharField(max_length=500)
    quantity = fields.IntField(default=1)
    unit_amount = fields.BigIntField()
    amount = fields.BigIntField()

    class Meta:
        table = "invoice_line"


class Payment(Model):
    """One attempt to collect an invoice.

    `provider_idempotency_key` is random per row and sent with every provider call
    for this row, so a retry after a timeout or crash can never charge twice.
    """

    id = fields.IntField(primary_key=True)
    account_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="payments", on_delete=fields.CASCADE
    )
    invoice_id: int
    invoice: fields.ForeignKeyRelation[Invoice] = fields.ForeignKeyField(
        "models.Invoice", related_name="payments", on_delete=fields.CASCADE
    )
    payment_method_id: int | None
    payment_method: fields.ForeignKeyNullableRelation[PaymentMethod] = fields.ForeignKeyField(
        "models.PaymentMethod", related_name="payments", null=True, on_delete=fields.SET_NULL
    )
    amount = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    status = fields.CharEnumField(PaymentStatus, max_length=16, default=PaymentStatus.PENDING)
    off_session = fields.BooleanField(default=False)
    provider_idempotency_key = fields.CharField(max_length=64, unique=True)
    provider_payment_id = fields.CharField(max_length=64, null=True, db_index=True)
    client_idempotency_key = fields.CharField(max_length=128, null=True)
    request_fingerprint = fields.CharField(max_length=64, null=True)
    failure_code = fields.CharField(max_length=64, null=True)
    failure_message = fields.CharField(max_length=500, null=True)
    next_action: dict[str, Any] | None = fields.JSONField(null=True)
    amount_refunded = fields.BigIntField(default=0)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    settled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "payment"
        unique_together = (("account", "client_idempotency_key"),)


class InvoiceSequence(Model):
    """Gapless invoice numbers per year: the row is locked while a number is taken."""

    year = fields.IntField(primary_key=True)  # set explicitly, never generated
    last_value = fields.IntField(default=0)

    class Meta:
        table = "invoice_sequence"
