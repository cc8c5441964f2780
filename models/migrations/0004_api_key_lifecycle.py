from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_documents_outbox_dunning')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='ApiKey',
            options={'table': 'api_key', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A bearer key. Only a peppered hash of the secret is stored. The secret is shown once.'},
        ),
        ops.AddField(
            model_name='ApiKey',
            name='expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='hash_version',
            field=fields.SmallIntField(default=1),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='last_used_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='principal',
            field=fields.CharField(default='', db_index=True, max_length=64),
        ),
        ops.AlterModelOptions(
            name='PartnerAccess',
            options={'table': 'partner_access', 'app': 'models', 'unique_together': (('api_key', 'account'),), 'pk_attr': 'id', 'table_description': 'Grants a partner key read access to one account, and writes only when can_write.'},
        ),
        ops.AddField(
            model_name='PartnerAccess',
            name='can_write',
            field=fields.BooleanField(default=False),
        ),
        # Existing keys get the principal a new key of theirs would get (services/api_keys.py).
        ops.RunSQL(
            [
                "UPDATE api_key SET principal = 'account:' || account_id || ':' || role"
                " WHERE role <> 'partner' AND principal = ''",
                "UPDATE api_key SET principal = 'partner:' || id WHERE role = 'partner' AND principal = ''",
            ],
            reverse_sql=[],
        ),
    ]
