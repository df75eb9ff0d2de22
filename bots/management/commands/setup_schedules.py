from django.conf import settings
from django.core.management.base import BaseCommand
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


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules for the syncs (idempotent; run by `make demo`)."

    def handle(self, *args, **options):
        for name, (func, minutes) in schedules().items():
            schedule, created = Schedule.objects.update_or_create(
                name=name,
                defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
            )
            self.stdout.write(f"{'created' if created else 'updated'} {name}: {func} every {schedule.minutes} min")
