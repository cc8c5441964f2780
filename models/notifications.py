"""The email outbox and the provider events already applied."""

from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account


class OutboxMessage(Model):
    """An email written in the same transaction as the state change it reports.

    The sender delivers it later over SMTP; `dedupe_key` is unique so one event can
    never enqueue the same message twice.
    """

    id = fields.IntField(primary_key=True)
    account_id: int | None
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="outbox", null=True, on_delete=fields.SET_NULL
    )
    dedupe_key = fields.CharField(max_length=128, unique=True)
    template = fields.CharField(max_length=64)
    to_email = fields.CharField(max_length=254)
    context: dict[str, Any] = fields.JSONField(default=dict)
    status = fields.CharField(max_length=16, default="PENDING", db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"


class WebhookEvent(Model):
    """A provider event id, stored once: a second delivery of it changes nothing."""

    id = fields.CharField(max_length=255, primary_key=True)
    type = fields.CharField(max_length=100)
    received_at = fields.DatetimeField()

    class Meta:
        table = "webhook_event"
