from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bots import services
from bots.hummingbot.errors import HummingbotError


class Command(BaseCommand):
    help = "Check that the Hummingbot API answers and accepts our credentials; exit 1 when it does not."

    def handle(self, *args, **options):
        self.stdout.write(f"Hummingbot API: {settings.HUMMINGBOT_API_URL} (user {settings.HUMMINGBOT_API_USERNAME})")
        try:
            report = services.hummingbot_overview()
        except HummingbotError as exc:
            raise CommandError(f"NOT OK: {exc.message}") from None
        label = " [SANDBOX]" if report["sandbox"] else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: reachable, auth ok, {report['name']} {report['version']}{label}, {report['bots']} bot(s) active"
            )
        )
