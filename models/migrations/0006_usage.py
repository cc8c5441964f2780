from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import ApiKeyRole, NotificationKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_subscription_billing_anchor')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Meter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(max_length=200)),
                ('unit', fields.CharField(max_length=64)),
            ],
            options={'table': 'meter', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Something the product counts, e.g. credits. Usage is summed per subscription period.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='USAGE_THRESHOLD: USAGE_THRESHOLD\nOVERAGE_STARTED: OVERAGE_STARTED\nOVERAGE_CAP_REACHED: OVERAGE_CAP_REACHED', enum_type=NotificationKind, max_length=32)),
                ('meter', fields.ForeignKeyField('models.Meter', source_field='meter_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.RESTRICT)),
                ('period_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('threshold', fields.SmallIntField(default=0)),
                ('message', fields.CharField(max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification', 'app': 'models', 'unique_together': (('account', 'meter', 'period_start', 'kind', 'threshold'),), 'indexes': [Index(fields=['account_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'An in-app notice. The unique (account, meter, period, kind, threshold) fires it once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OverageSetting',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='overage_settings', on_delete=OnDelete.CASCADE)),
                ('enabled', fields.BooleanField(default=False)),
                ('monthly_cap', fields.BigIntField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'overage_setting', 'app': 'models', 'unique_together': (('account',),), 'pk_attr': 'id', 'table_description': "An account's overage opt-in and its cap per period (minor units, NULL is no cap)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PlanAllowance',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('plan', fields.ForeignKeyField('models.Plan', source_field='plan_id', db_constraint=True, to_field='id', related_name='allowances', on_delete=OnDelete.CASCADE)),
                ('meter', fields.ForeignKeyField('models.Meter', source_field='meter_id', db_constraint=True, to_field='id', related_name='allowances', on_delete=OnDelete.RESTRICT)),
                ('included_micros', fields.BigIntField()),
                ('overage_unit_amount', fields.BigIntField(null=True)),
            ],
            options={'table': 'plan_allowance', 'app': 'models', 'unique_together': (('plan', 'meter'),), 'pk_attr': 'id', 'table_description': 'What a plan includes of one meter per period, and its overage price when offered.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UsageEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='usage_events', on_delete=OnDelete.CASCADE)),
                ('event_id', fields.CharField(max_length=255)),
                ('meter', fields.ForeignKeyField('models.Meter', source_field='meter_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT)),
                ('quantity_micros', fields.BigIntField()),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('period_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('received_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'usage_event', 'app': 'models', 'unique_together': (('account', 'event_id'),), 'pk_attr': 'id', 'table_description': 'One reported event. The unique (account, event_id) makes a repeat count once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UsageNotificationSetting',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='usage_notification_settings', on_delete=OnDelete.CASCADE)),
                ('thresholds', fields.JSONField(default=list)),
                ('email', fields.BooleanField(default=True)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'usage_notification_setting', 'app': 'models', 'unique_together': (('account',),), 'pk_attr': 'id', 'table_description': 'The percentages of the allowance an account is told about, and whether by email.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UsagePeriodTotal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='usage_totals', on_delete=OnDelete.CASCADE)),
                ('meter', fields.ForeignKeyField('models.Meter', source_field='meter_id', db_constraint=True, to_field='id', related_name='totals', on_delete=OnDelete.RESTRICT)),
                ('period_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('period_end', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('quantity_micros', fields.BigIntField(default=0)),
                ('overage_micros', fields.BigIntField(default=0)),
                ('invoiced_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('invoice_line_id', fields.IntField(null=True)),
                ('billed_amount', fields.BigIntField(null=True)),
                ('billed_unit_amount', fields.BigIntField(null=True)),
                ('billed_cap', fields.BigIntField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'usage_period_total', 'app': 'models', 'unique_together': (('account', 'meter', 'period_start'),), 'pk_attr': 'id', 'table_description': "The sum of one meter's usage in one period, updated in the insert's transaction."},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='ApiKey',
            name='role',
            field=fields.CharEnumField(description='ADMIN: admin\nVIEWER: viewer\nPARTNER: partner\nSERVICE: service', enum_type=ApiKeyRole, max_length=16),
        ),
    ]
