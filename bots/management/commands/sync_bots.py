import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bots import services
from bots.hummingbot.errors import HummingbotError
from bots.management.status_line import StatusLine, per_second


class Command(BaseCommand):
    help = "Read every bot's status from Hummingbot (one call) and update, adopt or mark vanished bots."

    def handle(self, *args, **options):
        status, server = StatusLine(self.stdout), _shown(settings.HUMMINGBOT_API_URL)
        status.update(f"reading bot statuses from {server}…")
        started = time.monotonic()
        try:
            report = services.bots_sync()
        except HummingbotError as exc:
            raise CommandError(f"Sync failed, nothing changed: {exc.message}") from None
        elapsed = time.monotonic() - started
        counts = ", ".join(f"{key} {value}" for key, value in report.items())
        bots = report["seen"] + report["adopted"]
        status.line(f"{server}: {counts} in {elapsed:.1f} s, {per_second(bots, elapsed)} bots/s")


def _shown(url: str) -> str:
    """The server as people may read it: credentials written into the URL stay out of the output."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
