from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_payment_method_one_default')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Document',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('invoice', fields.ForeignKeyField('models.Invoice', source_field='invoice_id', db_constraint=True, to_field='id', related_name='documents', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=16)),
                ('template_version', fields.CharField(max_length=32)),
                ('content', fields.BinaryField()),
                ('sha256', fields.CharField(max_length=64)),
                ('size', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'document', 'app': 'models', 'unique_together': (('invoice', 'kind', 'template_version'),), 'pk_attr': 'id', 'table_description': 'One stored PDF per (invoice, kind, template version). The unique key is the guard'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='outbox', on_delete=OnDelete.SET_NULL)),
                ('dedupe_key', fields.CharField(unique=True, max_length=128)),
                ('template', fields.CharField(max_length=64)),
                ('to_email', fields.CharField(max_length=254)),
                ('context', fields.JSONField(default=dict)),
                ('status', fields.CharField(default='PENDING', db_index=True, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(null=True, max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_message', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An email written in the same transaction as the state change it reports.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookEvent',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('type', fields.CharField(max_length=100)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A provider event id, stored once: a second delivery of it changes nothing.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Invoice',
            name='auto_collect',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Invoice',
            name='collection_attempts',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Invoice',
            name='first_failed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Invoice',
            name='next_attempt_at',
            field=fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Payment',
            name='amount_refunded',
            field=fields.BigIntField(default=0),
        ),
    ]
