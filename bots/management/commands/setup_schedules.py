from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from django_q.models import Schedule


def schedules() -> dict:
    """name: (task, minutes between runs). The status task repeats itself every BOTS_SYNC_SECONDS in its minute."""
    return {
        "bridge: sync bot statuses": ("bots.tasks.sync_bots", 1),
        "bridge: sync trades": ("bots.tasks.sync_trades", settings.TRADES_SYNC_MINUTES),
        "bridge: purge throttle counts": ("bots.tasks.purge_throttle_counts", 60),
        "bridge: alert reminders and retries": ("bots.tasks.alert_notices", 1),
        "bridge: thin performance samples": ("bots.tasks.thin_performance_samples", 60),
    }


DAILY_REPORT = "bridge: daily report"


def next_daily_report(now: datetime) -> datetime:
    """The next DAILY_REPORT_HOUR:00 UTC after now; django-q2 moves a daily schedule on by a day after each run."""
    at = datetime.combine(now.date(), time(settings.DAILY_REPORT_HOUR), tzinfo=now.tzinfo)
    return at if at > now else at + timedelta(days=1)


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules for the syncs and the daily report (idempotent; run by `make demo`)."

    def handle(self, *args, **options):
        for name, (func, minutes) in schedules().items():
            schedule, created = Schedule.objects.update_or_create(
                name=name,
                defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
            )
            self.stdout.write(f"{'created' if created else 'updated'} {name}: {func} every {schedule.minutes} min")
        schedule, created = Schedule.objects.update_or_create(
            name=DAILY_REPORT,
            defaults={"func": "bots.tasks.send_daily_report", "schedule_type": Schedule.DAILY, "repeats": -1,
                      "next_run": next_daily_report(timezone.now())},
        )
        self.stdout.write(f"{'created' if created else 'updated'} {DAILY_REPORT}: bots.tasks.send_daily_report daily at "
                          f"{schedule.next_run:%H:%M} UTC")
