from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("bots", "0003_lifecycle_truth")]

    operations = [
        migrations.AddIndex(model_name="trade", index=models.Index(fields=["timestamp", "id"], name="trade_timestamp_id")),
    ]
