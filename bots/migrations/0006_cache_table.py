"""The database cache table (settings.CACHES) that web workers share for throttle counts and /health."""
from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("bots", "0005_reserved_bot_names")]
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
