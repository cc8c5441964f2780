from tortoise import migrations
from tortoise.migrations import operations as ops
from models.events import WebhookDeliveryStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_plan_changes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BillingEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('txid', fields.BigIntField(default=0)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='billing_events', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharField(max_length=48)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('invoice_id', fields.IntField(null=True)),
                ('payment_id', fields.IntField(null=True)),
                ('payment_method_id', fields.IntField(null=True)),
                ('subscription_id', fields.IntField(null=True)),
                ('notification_id', fields.IntField(null=True)),
                ('data', fields.JSONField(default=dict)),
            ],
            options={'table': 'billing_event', 'app': 'models', 'indexes': [Index(fields=['txid', 'id']), Index(fields=['account_id', 'txid', 'id'])], 'pk_attr': 'id', 'table_description': "One change to an account's billing, in log order (txid, id)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDispatchCursor',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('txid', fields.BigIntField(default=0)),
                ('event_id', fields.BigIntField(default=0)),
            ],
            options={'table': 'webhook_dispatch_cursor', 'app': 'models', 'pk_attr': 'id', 'table_description': 'How far the dispatcher has turned the log into deliveries (one row).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('owner_principal', fields.CharField(db_index=True, max_length=64)),
                ('owner_email', fields.CharField(null=True, max_length=254)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='webhook_endpoints', on_delete=OnDelete.CASCADE)),
                ('url', fields.CharField(max_length=2000)),
                ('types', fields.JSONField(default=list)),
                ('secret', fields.CharField(max_length=128)),
                ('previous_secret', fields.CharField(null=True, max_length=128)),
                ('previous_secret_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('enabled', fields.BooleanField(default=True)),
                ('disabled_reason', fields.CharField(null=True, max_length=200)),
                ('failing_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_endpoint', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Where an admin or a partner wants events POSTed, signed with its secret.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('endpoint', fields.ForeignKeyField('models.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event', fields.ForeignKeyField('models.BillingEvent', source_field='event_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=WebhookDeliveryStatus.PENDING, description='PENDING: PENDING\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED', enum_type=WebhookDeliveryStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('last_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('response_status', fields.IntField(null=True)),
                ('last_error', fields.CharField(null=True, max_length=500)),
                ('attempt_log', fields.JSONField(default=list)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'models', 'unique_together': (('endpoint', 'event'),), 'pk_attr': 'id', 'table_description': 'One event for one endpoint, tried until it succeeds or the retries run out.'},
            bases=['Model'],
        ),
    ]
