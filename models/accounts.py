"""Accounts (with their current billing info) and the API keys that act on them."""

from tortoise import fields
from tortoise.models import Model

from models.enums import ApiKeyRole, PlanTier


class Account(Model):
    """A customer. Its billing info lives here. Invoices copy it when issued."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=254, unique=True)
    tier = fields.CharEnumField(PlanTier, max_length=16, default=PlanTier.FREE)
    currency = fields.CharField(max_length=3, default="USD")
    provider_customer_id = fields.CharField(max_length=64, null=True, unique=True)
    billing_name = fields.CharField(max_length=200, null=True)
    billing_email = fields.CharField(max_length=254, null=True)
    address_line1 = fields.CharField(max_length=200, null=True)
    address_line2 = fields.CharField(max_length=200, null=True)
    address_city = fields.CharField(max_length=100, null=True)
    address_state = fields.CharField(max_length=100, null=True)
    address_postal_code = fields.CharField(max_length=20, null=True)
    address_country = fields.CharField(max_length=2, null=True)
    tax_id = fields.CharField(max_length=40, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "account"


class ApiKey(Model):
    """A bearer key. Only a peppered hash of the secret is stored. The secret is shown once.

    `principal` names who the key acts for (an account and role, or a partner), so a
    rotation can keep two keys of one principal active at once. `hash_version` 1 is the
    legacy plain SHA-256, 2 an HMAC of that digest under the server's pepper.
    """

    id = fields.IntField(primary_key=True)
    prefix = fields.CharField(max_length=16, unique=True)
    secret_hash = fields.CharField(max_length=64)
    hash_version = fields.SmallIntField(default=1)
    role = fields.CharEnumField(ApiKeyRole, max_length=16)
    principal = fields.CharField(max_length=64, default="", db_index=True)
    account_id: int | None
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="api_keys", null=True, on_delete=fields.CASCADE
    )
    label = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"


class PartnerAccess(Model):
    """Grants a partner key read access to one account, and writes only when can_write."""

    id = fields.IntField(primary_key=True)
    api_key_id: int
    api_key: fields.ForeignKeyRelation[ApiKey] = fields.ForeignKeyField(
        "models.ApiKey", related_name="grants", on_delete=fields.CASCADE
    )
    account_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="partner_grants", on_delete=fields.CASCADE
    )
    can_write = fields.BooleanField(default=False)

    class Meta:
        table = "partner_access"
        unique_together = (("api_key", "account"),)
