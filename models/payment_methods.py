"""Cards on file. Only what the provider tells us: never a card number or CVC."""

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account
from models.enums import CardFunding, PaymentMethodStatus


class PaymentMethod(Model):
    """A vaulted card.

    Exactly one default per account with cards: the partial unique index
    `payment_method_one_default` (migration 0002) is the guard; the
    services keep it true under a per-account row lock.
    """

    id = fields.IntField(primary_key=True)
    account_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="payment_methods", on_delete=fields.CASCADE
    )
    provider_id = fields.CharField(max_length=64, db_index=True)
    setup_intent_id = fields.CharField(max_length=64, null=True)
    setup_client_secret = fields.CharField(max_length=200, null=True)
    brand = fields.CharField(max_length=32)
    last4 = fields.CharField(max_length=4)
    exp_month = fields.SmallIntField()
    exp_year = fields.SmallIntField()
    funding = fields.CharEnumField(CardFunding, max_length=16, default=CardFunding.UNKNOWN)
    status = fields.CharEnumField(PaymentMethodStatus, max_length=16)
    is_default = fields.BooleanField(default=False)
    make_default_on_confirm = fields.BooleanField(default=False)
    address_line1 = fields.CharField(max_length=200, null=True)
    address_line2 = fields.CharField(max_length=200, null=True)
    address_city = fields.CharField(max_length=100, null=True)
    address_state = fields.CharField(max_length=100, null=True)
    address_postal_code = fields.CharField(max_length=20, null=True)
    address_country = fields.CharField(max_length=2, null=True)
    created_at = fields.DatetimeField()
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "payment_method"
