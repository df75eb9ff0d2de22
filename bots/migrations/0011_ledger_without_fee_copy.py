import django.db.models.deletion
from django.db import migrations, models

BOT_INDEX = "bots_trade_bot_id_07b52a9e"  # the name Django gave the foreign key's own index in 0001


def drop_bot_index(apps, schema_editor):
    """Only the index: altering the field the usual way would also drop and re-add the foreign key, which on
    PostgreSQL re-checks every trade with both tables locked, and on SQLite copies the whole table."""
    table = apps.get_model("bots", "Trade")._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    for name, constraint in constraints.items():
        if constraint["index"] and constraint["columns"] == ["bot_id"] and not constraint["unique"]:
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def create_bot_index(apps, schema_editor):
    table = apps.get_model("bots", "Trade")._meta.db_table
    quote = schema_editor.quote_name
    schema_editor.execute(f"CREATE INDEX {quote(BOT_INDEX)} ON {quote(table)} ({quote('bot_id')})")


class Migration(migrations.Migration):
    """The ledger stops storing `fee`, a copy of what `raw` holds (the history's raw_json.trade_fee, the archive's
    trade_fee and trade_fee_in_quote), and the trade's bot loses an index two others lead with: both cost every
    ingested fill their share of the write (bench/ingest.py)."""

    dependencies = [("bots", "0010_throttle_counts")]

    operations = [
        migrations.RemoveField(model_name="trade", name="fee"),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AlterField(
                model_name="trade",
                name="bot",
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                        related_name="trades", to="bots.bot"),
            )],
            database_operations=[migrations.RunPython(drop_bot_index, create_bot_index)],
        ),
        migrations.AlterField(
            model_name="trade",
            name="raw",
            field=models.JSONField(blank=True, default=dict, help_text="The fill as Hummingbot sent it, its fee included."),
        ),
    ]
