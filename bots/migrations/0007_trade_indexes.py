from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("bots", "0006_cache_table")]

    operations = [
        migrations.AddIndex(model_name="trade", index=models.Index(fields=["timestamp", "id"], name="trade_timestamp_id")),
    ]
