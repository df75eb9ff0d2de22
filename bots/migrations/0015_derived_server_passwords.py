"""A server's password variable is derived from its name (HUMMINGBOT_SERVER_<NAME>_PASSWORD; the default server keeps
HUMMINGBOT_API_PASSWORD), never chosen: issue 15, docs/design.md §10. The chosen names are dropped; each server
whose variable changes is printed, for the operator to rename that variable on the web and worker processes."""
from collections import defaultdict

import django.core.validators
import django.db.models.functions.text
from django.db import migrations, models

from bots.models import password_key, password_variable


def name_the_renames(apps, schema_editor):
    servers = list(apps.get_model("bots", "HummingbotServer").objects.order_by("name"))
    sharing = defaultdict(list)
    for server in servers:
        sharing[password_key(server.name)].append(server.name)
    clashes = [sorted(names) for names in sharing.values() if len(names) > 1]
    if clashes:
        raise RuntimeError("These Hummingbot servers would read one password variable; rename all but one of each "
                           f"(Django shell: HummingbotServer.name) and migrate again: {clashes}")
    for server in servers:
        derived = password_variable(server.name)
        if server.password_env != derived:
            print(f"Hummingbot server '{server.name}': rename {server.password_env} to {derived} "
                  "in the environment of the web and worker processes.")


class Migration(migrations.Migration):

    dependencies = [
        ('bots', '0014_live_params_change_claim'),
    ]

    operations = [
        migrations.RunPython(name_the_renames, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='hummingbotserver',
            name='password_env',
        ),
        migrations.AlterField(
            model_name='hummingbotserver',
            name='name',
            field=models.CharField(help_text="Short name shown in the panel and the API, e.g. eu-1. Letters, digits, '_' and '-'. It names the environment variable its password is read from: HUMMINGBOT_SERVER_EU_1_PASSWORD for eu-1.", max_length=64, unique=True, validators=[django.core.validators.RegexValidator('^[A-Za-z0-9_-]+\\Z', "Use only letters A-Z, digits, '_' and '-' (no spaces, dots, slashes or accents).", code='invalid_name')]),
        ),
        migrations.AddConstraint(
            model_name='hummingbotserver',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Upper(django.db.models.functions.text.Replace('name', models.Value('-'), models.Value('_'))), name='one_password_variable_per_server', violation_error_message="Another server's name gives the same password variable."),
        ),
    ]
