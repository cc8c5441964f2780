"""At most one default card per account: the guard the services rely on.

A partial unique index, which Tortoise models cannot declare. `WHERE is_default`
is valid on both backends: a boolean column on PostgreSQL, an INT 0/1 column
(truthy test) on SQLite.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    initial = False

    operations = [
        ops.RunSQL(
            "CREATE UNIQUE INDEX payment_method_one_default"
            " ON payment_method (account_id) WHERE is_default",
            reverse_sql="DROP INDEX IF EXISTS payment_method_one_default",
        ),
    ]
