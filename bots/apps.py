from django.apps import AppConfig
from django.db.backends.signals import connection_created


class BotsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "bots"
    verbose_name = "Trading bots"

    def ready(self):
        from bots import rollups

        connection_created.connect(rollups.register_sqlite_functions, dispatch_uid="bots.rollups.sqlite_functions")
