"""Many Hummingbot servers: the zero-configuration one ("default", blank URL = HUMMINGBOT_API_*) is created here
and every existing account, bot and status-sync state is attached to it (docs/design.md §10)."""
import django.db.models.deletion
from django.db import migrations, models

import bots.models
import bots.validators

DEFAULT = "default"


def attach_to_default(apps, schema_editor):
    server, _ = apps.get_model("bots", "HummingbotServer").objects.get_or_create(name=DEFAULT)
    for model in ("Account", "Bot"):
        apps.get_model("bots", model).objects.filter(server=None).update(server=server)
    apps.get_model("bots", "SyncState").objects.filter(scope="statuses").update(scope=DEFAULT)


def detach(apps, schema_editor):
    apps.get_model("bots", "SyncState").objects.filter(scope=DEFAULT).update(scope="statuses")


def server_field(related_name, *, null):
    return models.ForeignKey(
        null=null, default=None if null else bots.models.default_server_id,
        on_delete=django.db.models.deletion.PROTECT, related_name=related_name, to="bots.hummingbotserver",
    )


class Migration(migrations.Migration):

    dependencies = [
        ('bots', '0008_sync_state'),
    ]

    operations = [
        migrations.CreateModel(
            name='HummingbotServer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text="Short name shown in the panel and the API, e.g. eu-1. Letters, digits, '_' and '-'.", max_length=64, unique=True, validators=[bots.validators.validate_name])),
                ('url', models.URLField(blank=True, help_text='Blank: HUMMINGBOT_API_URL (the default server).')),
                ('username', models.CharField(blank=True, help_text='Blank: HUMMINGBOT_API_USERNAME.', max_length=150)),
                ('password_env', models.CharField(default='HUMMINGBOT_API_PASSWORD', help_text='Name of the environment variable holding the password (the value is never stored).', max_length=64)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.AddField(model_name='account', name='server', field=server_field('accounts', null=True)),
        migrations.AddField(model_name='bot', name='server', field=server_field('bots', null=True)),
        migrations.RunPython(attach_to_default, detach),
        migrations.AlterField(model_name='account', name='server', field=server_field('accounts', null=False)),
        migrations.AlterField(model_name='bot', name='server', field=server_field('bots', null=False)),
    ]
