from django.db import migrations, models

from bots import list_version

# The tables GET /bots reads: its rows (bots, their accounts and servers) and each server's sync state.
WATCHED = ["Bot", "Account", "HummingbotServer", "SyncState"]


def _tables(apps) -> list[str]:
    return [apps.get_model("bots", name)._meta.db_table for name in WATCHED]


def watch(apps, schema_editor):
    list_version.install(schema_editor, apps.get_model("bots", "BotListVersion")._meta.db_table, _tables(apps))


def unwatch(apps, schema_editor):
    list_version.uninstall(schema_editor, _tables(apps))
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {list_version.BUMP_FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [("bots", "0019_performance_samples")]

    operations = [
        migrations.CreateModel(
            name="BotListVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(watch, unwatch),
    ]
