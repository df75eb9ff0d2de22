from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bots import services
from bots.hummingbot.client import shown_server
from bots.hummingbot.errors import HummingbotError
from bots.models import HummingbotServer


class Command(BaseCommand):
    help = ("Check that each Hummingbot server answers and accepts our credentials, one line per server; "
            "exit 1 when any does not.")

    def handle(self, *args, **options):
        failed = []
        for server in HummingbotServer.every():
            try:
                report = services.hummingbot_overview(server)
            except HummingbotError as exc:
                failed.append(f"{server.name}: {exc.message}")
                self.stdout.write(self.style.ERROR(f"{shown_server(server)}: NOT OK: {exc.message}"))
                continue
            label = " [SANDBOX]" if report["sandbox"] else ""
            user = server.username or settings.HUMMINGBOT_API_USERNAME
            self.stdout.write(self.style.SUCCESS(
                f"{shown_server(server)}: OK: reachable, auth ok as {user}, {report['name']} {report['version']}{label}, "
                f"{report['bots']} bot(s) active"
            ))
        if failed:
            raise CommandError(f"NOT OK: {'; '.join(failed)}")
