"""Connectors stored as clean_connector returns them (lower case), so the self-trade guard and the
venue/chain rules, which compare exact values, also hold for rows written before that rule."""
from django.db import migrations
from django.db.models.functions import Lower


def lower_case_connectors(apps, schema_editor):
    Bot = apps.get_model("bots", "Bot")
    Bot.objects.exclude(connector=Lower("connector")).update(connector=Lower("connector"))


class Migration(migrations.Migration):
    dependencies = [("bots", "0001_initial")]

    operations = [migrations.RunPython(lower_case_connectors, migrations.RunPython.noop)]
