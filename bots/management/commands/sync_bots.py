from django.core.management.base import BaseCommand, CommandError

from bots import services
from bots.hummingbot.errors import HummingbotError


class Command(BaseCommand):
    help = "Read every bot's status from Hummingbot (one call) and update, adopt or mark vanished bots."

    def handle(self, *args, **options):
        try:
            report = services.bots_sync()
        except HummingbotError as exc:
            raise CommandError(f"Sync failed, nothing changed: {exc.message}") from None
        self.stdout.write(", ".join(f"{key} {value}" for key, value in report.items()))
