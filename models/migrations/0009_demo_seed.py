from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_events')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DemoSeed',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('completed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'demo_seed', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The demo data was seeded completely: written after the last seeding step.'},
            bases=['Model'],
        ),
    ]
