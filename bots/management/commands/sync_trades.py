from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import make_aware

from bots import services


def since_arg(value: str):
    moment = parse_datetime(value) or (parse_date(value) and parse_datetime(f"{value}T00:00:00"))
    if moment is None:
        raise CommandError(f"--since must be a date or datetime like 2026-11-01 or 2026-11-01T12:00:00Z, not {value!r}")
    return moment if moment.tzinfo else make_aware(moment)


class Command(BaseCommand):
    help = "Pull the fills of live and archived bots into the trade ledger (safe to run repeatedly)."

    def add_arguments(self, parser):
        parser.add_argument("--bot", action="append", help="bot name (repeatable); default: all deployed bots")
        parser.add_argument("--since", help="re-read fills since this date/datetime (UTC unless given)")

    def handle(self, *args, bot=None, since=None, **options):
        report = services.trades_sync(bot_names=bot, since=since_arg(since) if since else None)
        self.stdout.write(
            f"bots {report['bots']}: new {report['new']}, already known {report['known']}, "
            f"failed bots {len(report['failed'])}"
        )
        for name, reason in report["failed"].items():
            self.stderr.write(f"  {name}: {reason}")
        if report["failed"]:
            raise CommandError("some bots were not synced (see above); the others were stored")
