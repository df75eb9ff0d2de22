import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """The ledger stops storing `fee`, a copy of what `raw` holds (the history's raw_json.trade_fee, the archive's
    trade_fee and trade_fee_in_quote), and the trade's bot loses an index two others lead with: both cost every
    ingested fill their share of the write (bench/ingest.py)."""

    dependencies = [("bots", "0010_throttle_counts")]

    operations = [
        migrations.RemoveField(model_name="trade", name="fee"),
        migrations.AlterField(
            model_name="trade",
            name="bot",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="trades",
                                    to="bots.bot"),
        ),
        migrations.AlterField(
            model_name="trade",
            name="raw",
            field=models.JSONField(blank=True, default=dict, help_text="The fill as Hummingbot sent it, its fee included."),
        ),
    ]
