"""The billing event log, and the webhook endpoints and deliveries that read it.

The log is append-only: services write a row in the same transaction as the state
change it announces (services/events/log.py), so a change and its event commit
together or not at all.
"""

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account


class BillingEventType(StrEnum):
    INVOICE_CREATED = "INVOICE_CREATED"
    INVOICE_PAID = "INVOICE_PAID"
    INVOICE_VOIDED = "INVOICE_VOIDED"
    PAYMENT_SUCCEEDED = "PAYMENT_SUCCEEDED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    PAYMENT_REQUIRES_ACTION = "PAYMENT_REQUIRES_ACTION"
    SUBSCRIPTION_UPDATED = "SUBSCRIPTION_UPDATED"
    PAYMENT_METHOD_ADDED = "PAYMENT_METHOD_ADDED"
    PAYMENT_METHOD_UPDATED = "PAYMENT_METHOD_UPDATED"
    PAYMENT_METHOD_REMOVED = "PAYMENT_METHOD_REMOVED"
    DEFAULT_PAYMENT_METHOD_CHANGED = "DEFAULT_PAYMENT_METHOD_CHANGED"
    BILLING_INFO_UPDATED = "BILLING_INFO_UPDATED"
    USAGE_THRESHOLD_REACHED = "USAGE_THRESHOLD_REACHED"
    PAYMENT_REFUNDED = "PAYMENT_REFUNDED"


class WebhookDeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class BillingEvent(Model):
    """One change to an account's billing, in log order (txid, id).

    `txid` is the writing transaction's id on PostgreSQL (0 on SQLite, whose single
    writer commits in id order). Readers order by (txid, id) and read only rows whose
    transaction is older than every one still running, so a cursor never skips a row
    that commits late.
    """

    id = fields.BigIntField(primary_key=True)
    txid = fields.BigIntField(default=0)
    account_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="billing_events", on_delete=fields.CASCADE
    )
    type = fields.CharField(max_length=48)  # a BillingEventType value; new types need no migration
    occurred_at = fields.DatetimeField()
    invoice_id = fields.IntField(null=True)
    payment_id = fields.IntField(null=True)
    payment_method_id = fields.IntField(null=True)
    subscription_id = fields.IntField(null=True)
    notification_id = fields.IntField(null=True)
    data: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "billing_event"
        indexes = (("txid", "id"), ("account_id", "txid", "id"))


class WebhookEndpoint(Model):
    """Where an admin or a partner wants events POSTed, signed with its secret.

    An admin's endpoint names its account. A partner's names one of its accounts, or
    none (every account the partner sees when the event is dispatched).
    """

    id = fields.IntField(primary_key=True)
    owner_principal = fields.CharField(max_length=64, db_index=True)
    owner_email = fields.CharField(max_length=254, null=True)
    account_id: int | None
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="webhook_endpoints", null=True, on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=2000)
    types: list[str] = fields.JSONField(default=list)
    secret = fields.CharField(max_length=128)
    previous_secret = fields.CharField(max_length=128, null=True)
    previous_secret_expires_at = fields.DatetimeField(null=True)
    enabled = fields.BooleanField(default=True)
    disabled_reason = fields.CharField(max_length=200, null=True)
    failing_since = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_endpoint"


class WebhookDelivery(Model):
    """One event for one endpoint, tried until it succeeds or the retries run out.

    `next_attempt_at` is also the lease: a worker claims the row by pushing it forward,
    so a worker killed mid-delivery leaves the row due again once the lease ends.
    """

    id = fields.IntField(primary_key=True)
    endpoint_id: int
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    event_id: int
    event: fields.ForeignKeyRelation[BillingEvent] = fields.ForeignKeyField(
        "models.BillingEvent", related_name="deliveries", on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(
        WebhookDeliveryStatus, max_length=16, default=WebhookDeliveryStatus.PENDING
    )
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True, db_index=True)
    last_attempt_at = fields.DatetimeField(null=True)
    response_status = fields.IntField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    attempt_log: list[dict[str, Any]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField()

    class Meta:
        table = "webhook_delivery"
        unique_together = (("endpoint", "event"),)


class WebhookDispatchCursor(Model):
    """How far the dispatcher has turned the log into deliveries (one row)."""

    id = fields.IntField(primary_key=True)
    txid = fields.BigIntField(default=0)
    event_id = fields.BigIntField(default=0)

    class Meta:
        table = "webhook_dispatch_cursor"
