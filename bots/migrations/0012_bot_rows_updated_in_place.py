from django.db import migrations

# Every status sync rewrites every bot row (status_synced_at, upstream_status). With full pages PostgreSQL writes
# each new version elsewhere and indexes it again: 1,000 bots and 40 syncs left a 47 MB table whose list query took
# 12.8 ms instead of 3.4 until autovacuum came. Half-empty pages keep the versions in place (HOT updates, pruned on
# the next read): the table stayed at 1.7 MB and 3.2 ms, and each sync took a fifth less (bench/bots_list.py).
FILLFACTOR = 50


def pages_half_empty(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {_bot_table(apps, schema_editor)} SET (fillfactor = {FILLFACTOR})")


def pages_full(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {_bot_table(apps, schema_editor)} RESET (fillfactor)")


def _bot_table(apps, schema_editor) -> str:
    return schema_editor.quote_name(apps.get_model("bots", "Bot")._meta.db_table)


class Migration(migrations.Migration):
    dependencies = [("bots", "0011_ledger_without_fee_copy")]

    operations = [migrations.RunPython(pages_half_empty, pages_full)]
