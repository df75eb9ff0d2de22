from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from bots import services
from bots.hummingbot.client import shown_server
from bots.hummingbot.errors import HummingbotError
from bots.models import DEFAULT_SERVER, HummingbotServer


class Command(BaseCommand):
    help = ("Check that each Hummingbot server answers and accepts our credentials, one line per server; "
            "exit 1 when any does not. Before `migrate`, the server of HUMMINGBOT_API_* alone.")

    def handle(self, *args, **options):
        failed = []
        for server in self._servers():
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

    def _servers(self) -> list[HummingbotServer]:
        """The servers in the database; when it cannot give them (the README checks before `migrate`), the default
        server alone, unsaved: its blank URL reads HUMMINGBOT_API_*."""
        try:
            return HummingbotServer.every()
        except DatabaseError as exc:
            self.stdout.write(self.style.WARNING(
                f"No server list from the database ({exc.__class__.__name__}; run `python manage.py migrate` first "
                "for the servers added in the panel): checking HUMMINGBOT_API_* alone."))
            return [HummingbotServer(name=DEFAULT_SERVER)]
