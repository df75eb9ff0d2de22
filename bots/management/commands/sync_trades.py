import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import make_aware

from bots import services
from bots.management.status_line import StatusLine, per_second


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
        self.status, self.rows, self.previous = StatusLine(self.stdout), 0, 0.0
        started = time.monotonic()
        report = services.trades_sync(bot_names=bot, since=since_arg(since) if since else None, progress=self.show)
        elapsed = time.monotonic() - started
        self.status.line(
            f"bots {report['bots']}: new {report['new']}, already known {report['known']}, "
            f"failed bots {len(report['failed'])} in {elapsed:.1f} s, {per_second(self.rows, elapsed)} rows/s"
        )
        for name, reason in report["failed"].items():
            self.stderr.write(f"  {name}: {reason}")
        if report["failed"]:
            raise CommandError("some bots were not synced (see above); the others were stored")

    def show(self, read: services.BotTradesRead) -> None:
        rows = read.new + read.known
        self.rows += rows
        counts = f"failed: {read.error}" if read.error else (
            f"new {read.new}, known {read.known}, {per_second(rows, read.seconds - self.previous)} rows/s")
        self.previous = read.seconds
        if self.status.live:
            self.status.update(f"bots {read.done}/{read.total} [{read.bot}: {counts}] "
                               f"{self.rows:,} rows, {per_second(self.rows, read.seconds)} rows/s")
        else:
            self.status.line(f"[{read.done}/{read.total}] {read.bot}: {counts}")
