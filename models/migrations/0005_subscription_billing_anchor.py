from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_api_key_lifecycle')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Subscription',
            name='billing_anchor_day',
            field=fields.SmallIntField(null=True, description='The day of the month periods end on (1-31), clamped in short months.'),
        ),
    ]
