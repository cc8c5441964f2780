from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import CancellationReason, PlanChangeTiming
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_usage')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PlanChangeQuote',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token', fields.CharField(unique=True, max_length=64)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='plan_change_quotes', on_delete=OnDelete.CASCADE)),
                ('subscription_id', fields.IntField(null=True)),
                ('from_plan_id', fields.IntField(null=True)),
                ('to_plan', fields.ForeignKeyField('models.Plan', source_field='to_plan_id', db_constraint=True, to_field='id', related_name='quotes', on_delete=OnDelete.CASCADE)),
                ('timing', fields.CharEnumField(description='IMMEDIATE: IMMEDIATE\nPERIOD_END: PERIOD_END', enum_type=PlanChangeTiming, max_length=16)),
                ('current_period_end', fields.DatetimeField(null=True, description="The subscription's period when quoted: the quote holds only while it is unchanged.", auto_now=False, auto_now_add=False)),
                ('period_start', fields.DatetimeField(description='The period the new plan runs for once an immediate change is paid.', auto_now=False, auto_now_add=False)),
                ('period_end', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('new_period', fields.BooleanField(default=False)),
                ('currency', fields.CharField(max_length=3)),
                ('amount_due', fields.BigIntField()),
                ('lines', fields.JSONField(default=list)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('client_idempotency_key', fields.CharField(null=True, max_length=128)),
                ('request_fingerprint', fields.CharField(null=True, max_length=64)),
                ('invoice', fields.ForeignKeyField('models.Invoice', source_field='invoice_id', null=True, db_constraint=True, to_field='id', related_name='plan_change_quotes', on_delete=OnDelete.SET_NULL)),
                ('applied_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'plan_change_quote', 'app': 'models', 'unique_together': (('account', 'client_idempotency_key'),), 'pk_attr': 'id', 'table_description': 'A preview of a plan change, valid 15 minutes and usable once, by its account.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Subscription',
            name='cancel_at_period_end',
            field=fields.BooleanField(default=False, description='Canceled by the customer: paid features stay on until the period end, then Free.'),
        ),
        ops.AddField(
            model_name='Subscription',
            name='cancel_requested_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Subscription',
            name='cancellation_comment',
            field=fields.CharField(null=True, max_length=500),
        ),
        ops.AddField(
            model_name='Subscription',
            name='cancellation_reason',
            field=fields.CharEnumField(null=True, description='TOO_EXPENSIVE: TOO_EXPENSIVE\nMISSING_FEATURES: MISSING_FEATURES\nSWITCHED_SERVICE: SWITCHED_SERVICE\nUNUSED: UNUSED\nCUSTOMER_SERVICE: CUSTOMER_SERVICE\nTOO_COMPLEX: TOO_COMPLEX\nLOW_QUALITY: LOW_QUALITY\nOTHER: OTHER', enum_type=CancellationReason, max_length=32),
        ),
        ops.AddField(
            model_name='Subscription',
            name='pending_plan',
            field=fields.ForeignKeyField('models.Plan', source_field='pending_plan_id', null=True, db_constraint=True, to_field='id', related_name='pending_subscriptions', on_delete=OnDelete.RESTRICT),
        ),
    ]
