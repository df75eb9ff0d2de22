import time

from django.core.management.base import BaseCommand, CommandError

from bots import services
from bots.hummingbot.client import shown_server
from bots.hummingbot.errors import HummingbotError
from bots.management.status_line import StatusLine, per_second
from bots.models import HummingbotServer


class Command(BaseCommand):
    help = ("Read every bot's status from each Hummingbot server (one call per server) and update, adopt or mark "
            "vanished bots; one line per server, exit 1 when any failed.")

    def handle(self, *args, **options):
        status, failed = StatusLine(self.stdout), []
        for server in HummingbotServer.every():
            shown = shown_server(server)
            status.update(f"reading bot statuses from {shown}…")
            started = time.monotonic()
            try:
                report = services.bots_sync(server=server)
            except HummingbotError as exc:
                failed.append(f"{server.name}: {exc.message}")
                status.line(f"{shown}: sync failed, nothing changed: {exc.message}")
                continue
            elapsed = time.monotonic() - started
            counts = ", ".join(f"{key} {value}" for key, value in report.items())
            bots = report["seen"] + report["adopted"]
            status.line(f"{shown}: {counts} in {elapsed:.1f} s, {per_second(bots, elapsed)} bots/s")
        if failed:
            raise CommandError(f"Sync failed, nothing changed: {'; '.join(failed)}")
