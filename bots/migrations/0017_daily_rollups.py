import bots.models
import django.db.models.deletion
from django.db import migrations, models


def rollups_of_the_ledger(apps, schema_editor):
    """A ledger stored before rollups existed is summed once; from here on the syncs keep them (bots/ledger.py).
    Skipped on an empty ledger, so a fresh database never runs today's rollup SQL against this migration's schema."""
    if apps.get_model("bots", "Trade").objects.exists():
        from bots import rollups

        with schema_editor.connection.cursor() as cursor:
            rollups.add(cursor, rollups.LEDGER, "true")


class Migration(migrations.Migration):

    dependencies = [
        ('bots', '0016_desk_limits'),
    ]

    operations = [
        migrations.CreateModel(
            name='DailyRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(help_text='The UTC day of the fills.')),
                ('trading_pair', models.CharField(max_length=129)),
                ('fills', models.PositiveIntegerField()),
                ('bought_base', bots.models.ExactSumField(decimal_places=18, max_digits=38)),
                ('bought_quote', bots.models.ExactSumField(decimal_places=18, help_text='Price x amount of the buys, each rounded to 18 places.', max_digits=38)),
                ('sold_base', bots.models.ExactSumField(decimal_places=18, max_digits=38)),
                ('sold_quote', bots.models.ExactSumField(decimal_places=18, help_text='Price x amount of the sells, each rounded to 18 places.', max_digits=38)),
                ('fees_quote', bots.models.ExactSumField(decimal_places=18, help_text='Fees in the quote asset; a fill whose fee is unknown adds nothing.', max_digits=38)),
                ('bot', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='rollups', to='bots.bot')),
            ],
            options={
                'indexes': [models.Index(fields=['day'], name='rollup_day')],
                'constraints': [models.UniqueConstraint(fields=('bot', 'day', 'trading_pair'), name='unique_rollup_per_bot_day')],
            },
        ),
        migrations.RunPython(rollups_of_the_ledger, migrations.RunPython.noop),
    ]
